// Mixed precision (nabla/precision.h): the bf16/fp16 rounding against independent references
// (the CPU's F16C conversion, and the nearer of a value's two bf16 neighbours), round_to and its
// gradient, and the autocast rule of matmul, linear and conv2d, forward and backward.
#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>
#include <thread>

#include "kernels/math/precision.h"
#include "nabla/nabla.h"
#include "support/gradcheck.h"

using namespace nabla;
using kernels::bits_float;
using kernels::float_bits;
using nabla::testing::expect_error;

namespace {

constexpr uint64_t kStride = 4099;  // about a million bit patterns, every sign and exponent

__attribute__((target("f16c"))) float f16c_round(float x) {
  return _cvtsh_ss(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT));
}

// The nearer of the two bf16 values around x (truncated, and one unit up), ties to the even one;
// one unit above the largest bf16 stands for 2^128, which rounds to infinity.
float bf16_reference(float x) {
  const uint32_t low = float_bits(x) & 0xffff0000u;
  const float down = bits_float(low), up = bits_float(low + 0x10000u);
  const double up_value = std::isinf(up) ? std::copysign(std::ldexp(1.0, 128), x) : up;
  const double to_down = std::fabs(double(x) - down), to_up = std::fabs(double(x) - up_value);
  if (to_down != to_up) return to_down < to_up ? down : up;
  return (low >> 16) & 1u ? up : down;
}

bool same(float a, float b) {
  return std::isnan(a) ? std::isnan(b) : float_bits(a) == float_bits(b);
}

// Every value of t is one of precision p.
void expect_representable(const Tensor& t, Precision p) {
  const std::vector<float> v = t.to_vector<float>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    const float r =
        p == Precision::bf16 ? kernels::round_to_bf16(v[i]) : kernels::round_to_fp16(v[i]);
    ASSERT_TRUE(same(v[i], r)) << "element " << i << " = " << v[i] << " is not "
                               << precision_name(p);
  }
}

// a and b agree within `ulps` units of precision p's last place (relative to each value).
void expect_within(const Tensor& a, const Tensor& b, Precision p, double ulps) {
  const double unit = p == Precision::bf16 ? std::ldexp(1.0, -7) : std::ldexp(1.0, -10);
  const std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_LE(std::fabs(x[i] - y[i]), ulps * unit * std::max(std::fabs(y[i]), 1e-6f))
        << "element " << i << ": " << x[i] << " vs " << y[i];
}

Tensor randn(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return Tensor::randn(shape, &gen);
}

}  // namespace

TEST(Precision, Fp16RoundingMatchesTheCpusConversion) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "this CPU has no F16C instructions";
  for (uint64_t v = 0; v < (uint64_t{1} << 32); v += kStride) {
    const float x = bits_float(static_cast<uint32_t>(v));
    ASSERT_TRUE(same(kernels::round_to_fp16(x), f16c_round(x)))
        << "x = " << x << " (bits " << v << ")";
  }
}

TEST(Precision, Bf16RoundingPicksTheNearerNeighbour) {
  for (uint64_t v = 0; v < (uint64_t{1} << 32); v += kStride) {
    const float x = bits_float(static_cast<uint32_t>(v));
    if (std::isnan(x) || std::isinf(x)) continue;
    ASSERT_TRUE(same(kernels::round_to_bf16(x), bf16_reference(x)))
        << "x = " << x << " (bits " << v << ")";
  }
}

TEST(Precision, EdgesOfTheRanges) {
  using kernels::round_to_bf16;
  using kernels::round_to_fp16;
  // Ties go to the even neighbour: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7.
  EXPECT_EQ(round_to_bf16(1.0f + 0x1p-8f), 1.0f);
  EXPECT_EQ(round_to_bf16(1.0f + 0x3p-8f), 1.0f + 0x1p-6f);
  EXPECT_EQ(round_to_fp16(1.0f + 0x1p-11f), 1.0f);
  EXPECT_EQ(round_to_fp16(1.0f + 0x3p-11f), 1.0f + 0x1p-9f);
  // fp16's largest finite value, and where infinity begins.
  EXPECT_EQ(round_to_fp16(65519.0f), 65504.0f);
  EXPECT_TRUE(std::isinf(round_to_fp16(65520.0f)));
  EXPECT_TRUE(std::isinf(round_to_fp16(-1e6f)) && round_to_fp16(-1e6f) < 0);
  EXPECT_TRUE(std::isinf(round_to_bf16(3.4e38f)));
  // Subnormals: fp16's step is 2^-24; 2^-25 is a tie that goes to zero, just above it does not.
  EXPECT_EQ(round_to_fp16(0x1p-25f), 0.0f);
  EXPECT_EQ(round_to_fp16(0x1.02p-25f), 0x1p-24f);
  EXPECT_EQ(round_to_fp16(0x3p-25f), 0x1p-23f);
  EXPECT_TRUE(std::signbit(round_to_fp16(-0x1p-30f)));
  EXPECT_EQ(round_to_bf16(0x1.8p-133f), 0x1p-132f);
  // NaN stays NaN; infinities stay.
  EXPECT_TRUE(std::isnan(round_to_bf16(NAN)) && std::isnan(round_to_fp16(NAN)));
  EXPECT_EQ(round_to_bf16(-INFINITY), -INFINITY);
  EXPECT_EQ(round_to_fp16(INFINITY), INFINITY);
}

TEST(Precision, NamesAndGuards) {
  for (Precision p : {Precision::fp32, Precision::bf16, Precision::fp16})
    EXPECT_EQ(parse_precision(precision_name(p)), p);
  expect_error([] { parse_precision("fp8"); },
               "unknown precision 'fp8' (expected fp32, bf16, fp16)");
  EXPECT_EQ(autocast_precision(), Precision::fp32);
  {
    AutocastGuard outer(Precision::bf16);
    EXPECT_EQ(autocast_precision(), Precision::bf16);
    {
      AutocastGuard inner(Precision::fp16);
      EXPECT_EQ(autocast_precision(), Precision::fp16);
    }
    EXPECT_EQ(autocast_precision(), Precision::bf16);
    Precision other_thread = Precision::bf16;
    std::thread([&] { other_thread = autocast_precision(); }).join();
    EXPECT_EQ(other_thread, Precision::fp32);  // the state is the calling thread's
  }
  EXPECT_EQ(autocast_precision(), Precision::fp32);
}

TEST(Precision, RoundToAndItsGradient) {
  for (Precision p : {Precision::bf16, Precision::fp16}) {
    const Tensor x = mul(randn({257}, 1), 100.0f).requires_grad(true);
    const Tensor y = round_to(x, p);
    const std::vector<float> xv = x.to_vector<float>(), yv = y.to_vector<float>();
    for (std::size_t i = 0; i < xv.size(); ++i)
      ASSERT_TRUE(same(yv[i], p == Precision::bf16 ? kernels::round_to_bf16(xv[i])
                                                   : kernels::round_to_fp16(xv[i])));
    const Tensor g = randn({257}, 2);
    y.backward(g);
    EXPECT_TRUE(allclose(x.grad(), round_to(g, p), 0.0, 0.0));
  }
  const Tensor x = randn({4}, 1);
  EXPECT_TRUE(round_to(x, Precision::fp32).is_same(x));
}

TEST(Precision, AutocastLinearRoundsOperandsAndOutput) {
  for (Precision p : {Precision::bf16, Precision::fp16}) {
    SCOPED_TRACE(std::string(precision_name(p)));
    const Tensor x = randn({33, 70}, 3), w = mul(randn({20, 70}, 4), 0.1f), b = randn({20}, 5);
    // The rule by hand: products of rounded operands, summed in float32, plus the rounded bias,
    // rounded.
    const Tensor expected =
        round_to(add(matmul(round_to(x, p), round_to(w, p).transpose(0, 1)), round_to(b, p)), p);
    Tensor y;
    {
      AutocastGuard autocast(p);
      y = linear(x, w, b);
    }
    expect_representable(y, p);
    expect_within(y, expected, p, 1.0);  // the two float32 sums may round to neighbours
    EXPECT_FALSE(allclose(y, linear(x, w, b), 0.0, 0.0));  // it did round
  }
}

// The gradients: each product's operands and result are rounded in the backward too, and the
// backward gives the same bits whether it runs under the guard or not.
TEST(Precision, AutocastBackwardRoundsAndNeedsNoGuard) {
  const Precision p = Precision::bf16;
  auto run = [&](bool backward_under_guard, const char* op) {
    const Tensor x = randn({16, 24}, 6).requires_grad(true);
    const Tensor w = mul(randn({12, 24}, 7), 0.2f).requires_grad(true);
    const Tensor b = randn({12}, 8).requires_grad(true);
    const Tensor c = randn({16, 12}, 9);
    std::optional<AutocastGuard> guard(p);
    const Tensor y =
        std::string(op) == "linear" ? relu(linear(x, w, b)) : add(matmul(x, w.transpose(0, 1)), b);
    if (!backward_under_guard) guard.reset();
    sum(mul(y, c)).backward();
    return std::vector<Tensor>{x.grad(), w.grad(), b.grad()};
  };
  for (const char* op : {"linear", "matmul"}) {
    SCOPED_TRACE(op);
    const std::vector<Tensor> inside = run(true, op), outside = run(false, op);
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(allclose(inside[i], outside[i], 0.0, 0.0)) << "gradient " << i;
      if (i < 2) expect_representable(inside[i], p);  // the bias of matmul's sum is not a product
    }
  }
  // Close to the float32 gradients (bf16 keeps 8 significant bits).
  const std::vector<Tensor> rounded = run(true, "linear");
  const Tensor x = randn({16, 24}, 6).requires_grad(true);
  const Tensor w = mul(randn({12, 24}, 7), 0.2f).requires_grad(true);
  const Tensor b = randn({12}, 8).requires_grad(true);
  sum(mul(relu(linear(x, w, b)), randn({16, 12}, 9))).backward();
  EXPECT_TRUE(allclose(rounded[1], w.grad(), 0.05, 0.05));
  EXPECT_FALSE(allclose(rounded[1], w.grad(), 0.0, 0.0));
}

TEST(Precision, AutocastConvolution) {
  const Precision p = Precision::bf16;
  const Tensor x = randn({2, 3, 9, 9}, 10).requires_grad(true);
  const Tensor w = mul(randn({4, 3, 3, 3}, 11), 0.3f).requires_grad(true);
  const Tensor b = randn({4}, 12).requires_grad(true);
  const nn::functional::Conv2dOptions options{.padding = {1, 1}};
  Tensor y;
  {
    AutocastGuard autocast(p);
    y = nn::functional::conv2d(x, w, b, options);
  }
  expect_representable(y, p);
  {
    NoGradGuard no_grad;
    const Tensor expected = round_to(
        nn::functional::conv2d(round_to(x, p), round_to(w, p), round_to(b, p), options), p);
    expect_within(y, expected, p, 1.0);
  }
  // The gradients reach the float32 leaves, rounded.
  sum(mul(y, y)).backward();
  expect_representable(x.grad(), p);
  expect_representable(w.grad(), p);
}

TEST(Precision, Fp16OverflowsToInfinityAndUnderflowsToZero) {
  const Tensor a = Tensor::full({1, 1}, 300.0f), big = Tensor::full({1, 1}, 300.0f);
  const Tensor tiny = Tensor::full({1, 1}, 1e-4f);
  AutocastGuard autocast(Precision::fp16);
  EXPECT_TRUE(std::isinf(matmul(a, big).item<float>()));  // 90000 > 65504
  EXPECT_EQ(matmul(tiny, tiny).item<float>(), 0.0f);      // 1e-8 < 2^-25
  EXPECT_EQ(matmul(a, tiny).item<float>(),
            kernels::round_to_fp16(kernels::round_to_fp16(1e-4f) * 300.0f));
}
