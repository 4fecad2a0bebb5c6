// conv2d on the CPU's direct kernels (small channel counts, stride 1) against a reference in
// double, on planes large enough for the register-blocked forward (blocks of 16 outputs, groups
// of 4 output channels with a partial last group), the nine-at-once weight-gradient dots (3 x 3
// and 5 x 5 kernels) and the input gradient (a forward convolution of dy with the flipped
// kernel); and the same bits at 1 and 2 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "nabla/nabla.h"
#include "support/gradcheck.h"

using namespace nabla;
namespace F = nabla::nn::functional;
using nabla::testing::uniform;

namespace {

struct Case {
  int64_t n, c_in, h, w, c_out, k, pad, dilation;
};

struct Result {
  std::vector<float> y, dx, dw, db;
};

Result run(const Case& c) {
  Tensor x = uniform({c.n, c.c_in, c.h, c.w}, -1, 1, 1);
  Tensor w = uniform({c.c_out, c.c_in, c.k, c.k}, -1, 1, 2);
  Tensor b = uniform({c.c_out}, -1, 1, 3);
  x.requires_grad(true), w.requires_grad(true), b.requires_grad(true);
  const Tensor y =
      F::conv2d(x, w, b, {.padding = {c.pad, c.pad}, .dilation = {c.dilation, c.dilation}});
  y.backward(uniform(y.shape(), -1, 1, 4));
  return {y.to_vector<float>(), x.grad().to_vector<float>(), w.grad().to_vector<float>(),
          b.grad().to_vector<float>()};
}

// The same sums in double, from the definition.
Result reference(const Case& c) {
  const auto x = uniform({c.n, c.c_in, c.h, c.w}, -1, 1, 1).to_vector<float>();
  const auto w = uniform({c.c_out, c.c_in, c.k, c.k}, -1, 1, 2).to_vector<float>();
  const auto b = uniform({c.c_out}, -1, 1, 3).to_vector<float>();
  const int64_t span = c.dilation * (c.k - 1) + 1;
  const int64_t oh = c.h + 2 * c.pad - span + 1, ow = c.w + 2 * c.pad - span + 1;
  const auto dy = uniform({c.n, c.c_out, oh, ow}, -1, 1, 4).to_vector<float>();
  std::vector<double> y(dy.size()), dx(x.size()), dw(w.size()), db(b.size());
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t o = 0; o < c.c_out; ++o)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox) {
          const int64_t yi = ((n * c.c_out + o) * oh + oy) * ow + ox;
          double acc = b[o];
          db[o] += dy[yi];
          for (int64_t ci = 0; ci < c.c_in; ++ci)
            for (int64_t i = 0; i < c.k; ++i)
              for (int64_t j = 0; j < c.k; ++j) {
                const int64_t iy = oy - c.pad + i * c.dilation, ix = ox - c.pad + j * c.dilation;
                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                const int64_t xi = ((n * c.c_in + ci) * c.h + iy) * c.w + ix;
                const int64_t wi = ((o * c.c_in + ci) * c.k + i) * c.k + j;
                acc += double(w[wi]) * x[xi];
                dx[xi] += double(w[wi]) * dy[yi];
                dw[wi] += double(x[xi]) * dy[yi];
              }
          y[yi] = acc;
        }
  auto to_float = [](const std::vector<double>& v) {
    return std::vector<float>(v.begin(), v.end());
  };
  return {to_float(y), to_float(dx), to_float(dw), to_float(db)};
}

// Float sums of up to a few thousand terms of size 1: absolute error well below 1e-3.
void expect_near(const std::vector<float>& actual, const std::vector<float>& expected,
                 const char* what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i)
    ASSERT_NEAR(actual[i], expected[i], 1e-3 + 1e-5 * std::abs(expected[i])) << what << " at " << i;
}

const Case kCases[] = {
    {3, 1, 28, 28, 4, 3, 1, 1},   // the small CNN's first convolution
    {3, 4, 14, 14, 8, 3, 1, 1},   // and its second
    {2, 2, 9, 23, 5, 3, 1, 1},    // a partial group of output channels
    {2, 3, 12, 10, 9, 5, 2, 1},   // 5 x 5: nine dots at once, twice, then one by one
    {2, 1, 20, 17, 3, 2, 0, 1},   // 2 x 2, no padding
    {2, 2, 15, 18, 6, 3, 2, 2},   // dilation
    {2, 2, 3, 3, 4, 3, 1, 1},     // planes shorter than one block
    {3, 8, 14, 14, 16, 3, 1, 1},  // the speedrun's second convolution
    {2, 16, 10, 9, 28, 3, 1, 1},  // 4032 weights: near the direct kernels' limit
    {2, 2, 8, 8, 3, 3, 3, 1},     // padding wider than the kernel: not the direct kernels
};

}  // namespace

TEST(Conv2dDirect, MatchesReferenceInDouble) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(::testing::Message() << "x (" << c.n << ", " << c.c_in << ", " << c.h << ", "
                                      << c.w << "), " << c.c_out << " outputs, k " << c.k);
    const Result r = run(c), e = reference(c);
    expect_near(r.y, e.y, "y");
    expect_near(r.dx, e.dx, "dx");
    expect_near(r.dw, e.dw, "dw");
    expect_near(r.db, e.db, "db");
  }
}

TEST(Conv2dDirect, SameBitsAtOneAndTwoThreads) {
  const int before = get_num_threads();
  for (const Case& c : kCases) {
    set_num_threads(1);
    const Result one = run(c);
    set_num_threads(2);
    const Result two = run(c);
    for (auto member : {&Result::y, &Result::dx, &Result::dw, &Result::db}) {
      const std::vector<float>&a = one.*member, &b = two.*member;
      ASSERT_EQ(a.size(), b.size());
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
    }
  }
  set_num_threads(before);
}
