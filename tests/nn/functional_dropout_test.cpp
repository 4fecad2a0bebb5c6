// dropout: identity outside training, the mask of kernels/math/dropout.h drawn from the generator,
// its statistics, and its gradient.
#include <gtest/gtest.h>

#include "kernels/math/dropout.h"
#include "nabla/nn/functional.h"
#include "nn/functional_fixtures.h"

using namespace nabla;
namespace F = nabla::nn::functional;
using nabla::testing::expect_error;
using nabla::testing::expect_gradients_match;
using nabla::testing::uniform;

TEST(Dropout, IdentityWhenNotTrainingOrZeroP) {
  const Tensor x = uniform({3, 4}, -1, 1);
  EXPECT_TRUE(F::dropout(x, 0.5, false).is_same(x));
  EXPECT_TRUE(F::dropout(x, 0.0, true).is_same(x));
  nabla::testing::expect_close(F::dropout(x, 1.0, true), std::vector<float>(12, 0.0f));
}

TEST(Dropout, MaskFromThePhiloxStream) {
  const int64_t n = 20000;
  const double p = 0.3;
  Generator gen(42);
  gen.reserve(8);  // a non-zero starting offset
  const uint64_t offset = gen.offset();
  const Tensor y = F::dropout(Tensor::ones({n}), p, true, &gen);
  EXPECT_EQ(gen.offset(), offset + (n + 3) / 4);
  const std::vector<float> v = y.to_vector<float>();
  int64_t dropped = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = kernels::dropout_keep(42, offset, static_cast<uint64_t>(i), 0.3f);
    ASSERT_FLOAT_EQ(v[i], keep ? static_cast<float>(1.0 / (1.0 - p)) : 0.0f) << i;
    dropped += !keep;
  }
  // Binomial(n, p): standard deviation sqrt(n p (1 - p)) ~ 65; allow 5 of them.
  EXPECT_NEAR(static_cast<double>(dropped), p * n, 5 * 65.0);
}

TEST(Dropout, SameStateSameMask) {
  Generator a(7), b(7);
  const Tensor x = uniform({100}, 1, 2);
  EXPECT_TRUE(allclose(F::dropout(x, 0.5, true, &a), F::dropout(x, 0.5, true, &b), 0, 0));
  // The next draw continues the stream: a different mask.
  Generator c(7);
  EXPECT_FALSE(allclose(F::dropout(x, 0.5, true, &a), F::dropout(x, 0.5, true, &c)));
}

TEST(Dropout, GradientIsTheScaledMask) {
  // A fresh generator per call makes the mask a fixed function of x.
  expect_gradients_match(
      [](const std::vector<Tensor>& in) {
        Generator gen(3);
        return F::dropout(in[0], 0.4, true, &gen);
      },
      {uniform({4, 5}, -1, 1)});
  Generator gen(5);
  Tensor x = uniform({50}, 1, 2).requires_grad(true);
  const Tensor y = F::dropout(x, 0.5, true, &gen);
  y.sum().backward();
  // y = x m / (1 - p), so dy/dx = y / x.
  EXPECT_TRUE(allclose(x.grad(), y.detach() / x.detach(), 1e-6, 1e-7));
}

TEST(Dropout, Errors) {
  expect_error([] { F::dropout(Tensor::ones({2}), 1.5, true); },
               "probability must be in [0, 1], got 1.5");
  expect_error([] { F::dropout(Tensor::ones({2}), -0.1, true); }, "probability must be in [0, 1]");
}
