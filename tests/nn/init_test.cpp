// nn::init: gains, fans, the moments of every initialiser on large tensors, PyTorch's layer
// defaults, and init::apply over a model.
#include <gtest/gtest.h>

#include <cmath>

#include "support/gradcheck.h"

using namespace nabla;
using nabla::testing::expect_error;
namespace init = nabla::nn::init;

namespace {

struct Moments {
  double mean, var, min, max;
};

Moments moments_of(const Tensor& t) {
  const std::vector<float> v = t.to_vector<float>();
  double sum = 0, lo = v[0], hi = v[0];
  for (float x : v) sum += x, lo = std::min<double>(lo, x), hi = std::max<double>(hi, x);
  const double mean = sum / v.size();
  double ss = 0;
  for (float x : v) ss += (x - mean) * (x - mean);
  return {mean, ss / (v.size() - 1), lo, hi};
}

// Checks the sample mean and variance of n draws against the distribution's. Tolerances are six
// standard errors: SE(mean) = sigma / sqrt(n), SE(var) = sqrt((mu4 - sigma^4) / n) with
// mu4 = 9/5 sigma^4 for a uniform and 3 sigma^4 for a normal distribution. A correct
// initialiser then fails with probability about 2e-9 for any seed, while a wrong formula (a
// missing gain, the wrong fan) is off by far more: at n = 1e6, six SE of the variance is 0.5%
// (uniform) or 0.85% (normal) of it.
void expect_moments(const Tensor& t, double mean, double std, bool uniform) {
  const Moments m = moments_of(t);
  const double n = static_cast<double>(t.numel()), var = std * std;
  const double kurtosis = uniform ? 9.0 / 5.0 : 3.0;
  EXPECT_NEAR(m.mean, mean, 6.0 * std / std::sqrt(n));
  EXPECT_NEAR(m.var, var, 6.0 * var * std::sqrt((kurtosis - 1.0) / n));
  if (uniform) {  // support [mean - sqrt(3) std, mean + sqrt(3) std], nearly reached
    const double bound = std::sqrt(3.0) * std;
    EXPECT_GE(m.min, mean - bound);
    EXPECT_LE(m.max, mean + bound);
    EXPECT_LT(m.min, mean - 0.999 * bound);
    EXPECT_GT(m.max, mean + 0.999 * bound);
  }
}

}  // namespace

TEST(Init, GainsAsTorch) {
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Linear), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Conv2d), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Sigmoid), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Tanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::ReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::LeakyReLU),
                   std::sqrt(2.0 / (1.0 + 0.01 * 0.01)));
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::LeakyReLU, std::sqrt(5.0)),
                   std::sqrt(1.0 / 3.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::SELU), 0.75);
}

TEST(Init, FansOfLinearAndConvWeights) {
  const Tensor linear_w = Tensor::zeros({3, 5});  // (out, in)
  EXPECT_EQ(init::fan_in(linear_w), 5);
  EXPECT_EQ(init::fan_out(linear_w), 3);
  const Tensor conv_w = Tensor::zeros({8, 4, 3, 5});  // (C_out, C_in/groups, kH, kW)
  EXPECT_EQ(init::fan_in(conv_w), 4 * 3 * 5);
  EXPECT_EQ(init::fan_out(conv_w), 8 * 3 * 5);
  nn::Conv2d grouped(8, 16, 3, 1, 0, 1, 4);
  EXPECT_EQ(init::fan_in(grouped.weight()), 2 * 9);
  expect_error([] { init::fan_in(Tensor::zeros({4})); },
               "init::fan_in: fans need a tensor of at least 2 dims");
  expect_error([] { init::xavier_uniform_(Tensor::zeros({4})); }, "at least 2 dims");
}

TEST(Init, UniformAndNormalMoments) {
  Generator gen(1);
  const Tensor t = Tensor::empty({1000, 1000});
  init::uniform_(t, -2.0, 3.0, &gen);
  expect_moments(t, 0.5, 5.0 / std::sqrt(12.0), true);
  init::normal_(t, 1.0, 2.0, &gen);
  expect_moments(t, 1.0, 2.0, false);
  init::constant_(t, 0.25);
  EXPECT_EQ(moments_of(t).max, 0.25);
  expect_error([&] { init::uniform_(t, 1.0, 0.0); }, "init::uniform_: a = 1 must not exceed b = 0");
  expect_error([&] { init::normal_(t, 0.0, -1.0); }, "std = -1 must be non-negative");
  expect_error([] { init::uniform_(Tensor::zeros({2}, {.dtype = DType::Int64})); },
               "expected a float32 tensor");
}

TEST(Init, XavierMoments) {
  Generator gen(2);
  const Tensor t = Tensor::empty({500, 2000});  // fan_in 2000, fan_out 500
  init::xavier_uniform_(t, 2.0, &gen);
  expect_moments(t, 0.0, 2.0 * std::sqrt(2.0 / 2500.0), true);
  init::xavier_normal_(t, 0.5, &gen);
  expect_moments(t, 0.0, 0.5 * std::sqrt(2.0 / 2500.0), false);
}

TEST(Init, KaimingMomentsOnConvWeights) {
  Generator gen(3);
  const Tensor w = Tensor::empty({250, 40, 10, 10});  // fan_in 4000, fan_out 25000
  init::kaiming_uniform_(w, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU, &gen);
  expect_moments(w, 0.0, std::sqrt(2.0) / std::sqrt(4000.0), true);
  init::kaiming_normal_(w, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU, &gen);
  expect_moments(w, 0.0, std::sqrt(2.0) / std::sqrt(25000.0), false);
  init::kaiming_normal_(w, 0.2, init::FanMode::FanIn, init::Nonlinearity::LeakyReLU, &gen);
  expect_moments(w, 0.0, std::sqrt(2.0 / 1.04) / std::sqrt(4000.0), false);
}

// PyTorch's Linear/Conv2d default: weight and bias uniform in +-1/sqrt(fan_in).
TEST(Init, LayerDefaultsHavePyTorchBounds) {
  Generator gen(4);
  nn::Linear lin(1000, 1000, true, &gen);
  expect_moments(lin.weight(), 0.0, 1.0 / std::sqrt(3.0 * 1000.0), true);
  const Moments b = moments_of(lin.bias());
  EXPECT_GE(b.min, -1.0 / std::sqrt(1000.0));
  EXPECT_LE(b.max, 1.0 / std::sqrt(1000.0));
  EXPECT_GT(b.max - b.min, 1.9 / std::sqrt(1000.0));  // 1000 draws fill the interval

  nn::Conv2d conv(40, 250, 10, 1, 0, 1, 1, true, &gen);  // fan_in 4000
  expect_moments(conv.weight(), 0.0, 1.0 / std::sqrt(3.0 * 4000.0), true);
  const Moments cb = moments_of(conv.bias());
  EXPECT_LE(std::max(-cb.min, cb.max), 1.0 / std::sqrt(4000.0));
}

TEST(Init, ApplyTouchesLinearAndConvOnly) {
  nn::Sequential model{nn::Conv2d(2, 4, 3), nn::BatchNorm2d(4), nn::Flatten(),
                       nn::Sequential{nn::Linear(16, 8), nn::ReLU(), nn::Linear(8, 2)}};
  Generator gen(5);
  init::apply(model, init::KaimingNormal{.nonlinearity = init::Nonlinearity::ReLU}, &gen);
  for (const auto& [name, p] : model.named_parameters()) {
    const Moments m = moments_of(p);
    if (name == "1.weight") {
      EXPECT_EQ(m.min, 1.0) << "norm weights are not touched";
    } else if (name.ends_with("bias")) {
      EXPECT_EQ(m.min, 0.0) << name;
      EXPECT_EQ(m.max, 0.0) << name;
    } else {
      EXPECT_GT(m.max - m.min, 0.0) << name;
    }
  }
  const std::vector<float> bias = model.get<nn::Conv2d>(0).bias().to_vector<float>();
  init::apply(model, init::Uniform{.a = 0.5, .b = 1.0}, &gen, /*zero_bias=*/false);
  EXPECT_EQ(model.get<nn::Conv2d>(0).bias().to_vector<float>(), bias);
  EXPECT_GE(moments_of(model.get<nn::Conv2d>(0).weight()).min, 0.5);

  // Default re-applies PyTorch's initialisation, bias included.
  init::apply(model, init::Default{}, &gen);
  const Moments cb = moments_of(model.get<nn::Conv2d>(0).bias());
  EXPECT_GT(cb.max - cb.min, 0.0);
  EXPECT_LE(std::max(-cb.min, cb.max), 1.0 / std::sqrt(18.0));
}

TEST(Init, SameSeedSameModel) {
  auto make = [] {
    auto m = std::make_shared<nn::Sequential>(nn::Linear(5, 4), nn::Tanh(), nn::Linear(4, 3));
    Generator gen(9);
    init::apply(*m, init::XavierUniform{.gain = init::calculate_gain(init::Nonlinearity::Tanh)},
                &gen);
    return m;
  };
  const auto a = make(), b = make();
  for (const auto& [name, t] : a->state_dict())
    EXPECT_EQ(t.to_vector<float>(), b->state_dict().at(name).to_vector<float>()) << name;
}
