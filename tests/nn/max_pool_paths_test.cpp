// max_pool2d against a plain reference loop, bit for bit, on the geometries that take the CPU's
// unpadded path (whole planes in blocks) and the padded one (rows with edge tests): values, and
// the argmax seen through the gradient. Ties keep the first position in row-major order; a NaN
// wins, the last one in the window when there are several.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "nabla/nn/functional.h"

using namespace nabla;
namespace F = nabla::nn::functional;

namespace {

struct Reference {
  std::vector<float> y, dx;
};

// y and dx = the scatter of dy at each window's argmax, for x (planes, h, w).
Reference reference(const std::vector<float>& x, const std::vector<float>& dy, int64_t planes,
                    int64_t h, int64_t w, F::Pair k, F::Pair s, F::Pair p) {
  if (s[0] == 0 && s[1] == 0) s = k;  // the default stride
  const int64_t oh = (h + 2 * p[0] - k[0]) / s[0] + 1, ow = (w + 2 * p[1] - k[1]) / s[1] + 1;
  Reference r{std::vector<float>(planes * oh * ow), std::vector<float>(x.size(), 0.0f)};
  for (int64_t c = 0; c < planes; ++c)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        float best = -std::numeric_limits<float>::infinity();
        int64_t arg = -1;
        for (int64_t iy = oy * s[0] - p[0]; iy < oy * s[0] - p[0] + k[0]; ++iy)
          for (int64_t ix = ox * s[1] - p[1]; ix < ox * s[1] - p[1] + k[1]; ++ix) {
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const float v = x[(c * h + iy) * w + ix];
            if (arg < 0) arg = iy * w + ix;
            if (v > best || std::isnan(v)) best = v, arg = iy * w + ix;
          }
        const int64_t o = (c * oh + oy) * ow + ox;
        r.y[o] = best;
        r.dx[c * h * w + arg] += dy[o];
      }
  return r;
}

void expect_bitwise(const std::vector<float>& actual, const std::vector<float>& expected,
                    const char* what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_EQ(0, std::memcmp(&actual[i], &expected[i], sizeof(float)))
        << what << " at " << i << ": " << actual[i] << " vs " << expected[i];
}

void check(int64_t n, int64_t c, int64_t h, int64_t w, F::Pair k, F::Pair s, F::Pair p) {
  SCOPED_TRACE(::testing::Message()
               << "h " << h << " w " << w << " k " << k[0] << "x" << k[1] << " s " << s[0] << "x"
               << s[1] << " p " << p[0] << "x" << p[1]);
  // Few distinct values, so windows hold ties; some NaNs and infinities.
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> pick(-4, 4);
  std::vector<float> x(static_cast<size_t>(n * c * h * w));
  for (float& v : x) {
    const int r = pick(rng);
    v = r == 4 && pick(rng) > 2 ? std::numeric_limits<float>::quiet_NaN()
        : r == -4               ? -std::numeric_limits<float>::infinity()
                                : 0.5f * static_cast<float>(r);
  }
  Tensor xt = Tensor::from_vector(x, {n, c, h, w});
  xt.requires_grad(true);
  const Tensor y = F::max_pool2d(xt, k, s, p);
  std::vector<float> dy(static_cast<size_t>(y.numel()));
  for (size_t i = 0; i < dy.size(); ++i) dy[i] = 1.0f + static_cast<float>(i % 7);
  y.backward(Tensor::from_vector(dy, y.shape()));
  const Reference r = reference(x, dy, n * c, h, w, k, s, p);
  expect_bitwise(y.to_vector<float>(), r.y, "y");
  expect_bitwise(xt.grad().to_vector<float>(), r.dx, "dx");
}

}  // namespace

TEST(MaxPool2dPaths, Unpadded) {
  check(3, 4, 28, 28, {2, 2}, {0, 0}, {0, 0});  // the small CNN's pools
  check(3, 8, 14, 14, {2, 2}, {0, 0}, {0, 0});
  check(2, 3, 7, 9, {2, 2}, {0, 0}, {0, 0});    // odd sizes: the last row and column unused
  check(1, 2, 2, 37, {2, 2}, {2, 2}, {0, 0});   // one row of windows
  check(2, 3, 9, 11, {3, 2}, {1, 1}, {0, 0});   // overlapping windows, odd sizes
  check(2, 2, 40, 37, {3, 3}, {2, 3}, {0, 0});  // more than one block of outputs per plane
  check(1, 2, 5, 5, {5, 5}, {1, 1}, {0, 0});    // one window per plane
}

TEST(MaxPool2dPaths, Padded) {
  check(2, 3, 9, 11, {3, 3}, {2, 2}, {1, 1});
  check(2, 3, 8, 7, {2, 3}, {1, 2}, {1, 0});
}
