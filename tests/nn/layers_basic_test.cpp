// Linear, activations and Flatten through the module API (gradient checks, PyTorch parity);
// construction, parameters, buffers and argument checks of every layer.
#include <gtest/gtest.h>

#include <cmath>

#include "support/gradcheck.h"
#include "support/layer_fixtures.h"
#include "support/module_gradcheck.h"

using namespace nabla;
using nabla::testing::expect_close;
using nabla::testing::expect_error;
using nabla::testing::LayerFixtures;

namespace {
std::vector<std::string> names_of(const nn::NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, _] : named) out.push_back(name);
  return out;
}
// Inputs kept at least 0.1 away from the kink of ReLU/LeakyReLU at 0, so central differences
// with step 1e-3 never straddle it.
Tensor away_from_zero(const Shape& shape, uint64_t seed) {
  const Tensor u = nabla::testing::uniform(shape, 0.1f, 2.0f, seed);
  const Tensor sign = nabla::testing::uniform(shape, -1.0f, 1.0f, seed + 1);
  return where(gt(sign, Tensor::scalar(0.0f)), u, -u);
}
}  // namespace

// ---------------------------------------------------------------- Linear

TEST(Linear, ParametersAndPrint) {
  nn::Linear with_bias(5, 3);
  EXPECT_EQ(names_of(with_bias.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(with_bias.weight().shape(), Shape({3, 5}));
  EXPECT_EQ(with_bias.bias().shape(), Shape({3}));
  nn::Linear no_bias(5, 3, false);
  EXPECT_EQ(names_of(no_bias.named_parameters()), std::vector<std::string>{"weight"});
  EXPECT_FALSE(no_bias.bias().defined());
  EXPECT_EQ(no_bias.str(), "Linear(in_features=5, out_features=3, bias=False)");
}

TEST(Linear, MatchesPyTorch) {
  const auto& fx = LayerFixtures::get();
  nn::Linear lin(5, 3);
  lin.load_state_dict({{"weight", fx["linear.weight"]}, {"bias", fx["linear.bias"]}});
  Tensor x = fx["linear.x"].requires_grad(true);
  const Tensor y = lin(x);
  // Five-term float32 dot products of O(1) values: rounding below 1e-6.
  expect_close(y, fx["linear.y"].to_vector<float>(), 1e-5, 1e-6);
  (y * fx["linear.r"]).sum().backward();
  expect_close(x.grad(), fx["linear.dx"].to_vector<float>(), 1e-5, 1e-6);
  expect_close(lin.weight().grad(), fx["linear.dweight"].to_vector<float>(), 1e-5, 1e-6);
  expect_close(lin.bias().grad(), fx["linear.dbias"].to_vector<float>(), 1e-5, 1e-6);
}

TEST(Linear, GradientsOfInputWeightAndBias) {
  Generator gen(11);
  nn::Linear lin(4, 3, true, &gen);
  nabla::testing::expect_module_gradients_match(lin, nabla::testing::uniform({5, 4}, -1, 1, 2));
  nn::Linear no_bias(4, 2, false, &gen);
  nabla::testing::expect_module_gradients_match(no_bias, nabla::testing::uniform({3, 4}, -1, 1, 5));
}

TEST(Linear, AppliesToTheLastDimension) {
  nn::Linear lin(4, 2);
  const Tensor x = nabla::testing::uniform({2, 3, 4}, -1, 1);
  const Tensor y = lin(x);
  EXPECT_EQ(y.shape(), Shape({2, 3, 2}));
  expect_close(y.reshape({6, 2}), lin(x.reshape({6, 4})).to_vector<float>());
  expect_error(
      [&] {
        lin(Tensor::zeros({2, 5}));
      },
      "Linear(in_features=4): input of shape [2, 5] must end with 4 features");
}

TEST(Linear, SameGeneratorSeedSameWeights) {
  Generator g1(5), g2(5);
  nn::Linear a(6, 4, true, &g1), b(6, 4, true, &g2);
  EXPECT_EQ(a.weight().to_vector<float>(), b.weight().to_vector<float>());
  EXPECT_EQ(a.bias().to_vector<float>(), b.bias().to_vector<float>());
  nn::Linear c(6, 4, true, &g1);  // the generator moved on
  EXPECT_NE(a.weight().to_vector<float>(), c.weight().to_vector<float>());
}

// ---------------------------------------------------------------- activations, Flatten

TEST(Activations, MatchPyTorch) {
  const auto& fx = LayerFixtures::get();
  struct Case {
    const char* name;
    std::shared_ptr<nn::Module> module;
  };
  const std::vector<Case> cases = {{"relu", std::make_shared<nn::ReLU>()},
                                   {"leaky_relu", std::make_shared<nn::LeakyReLU>(0.2)},
                                   {"sigmoid", std::make_shared<nn::Sigmoid>()},
                                   {"tanh", std::make_shared<nn::Tanh>()},
                                   {"gelu", std::make_shared<nn::GELU>()}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Tensor x = fx["act.x"].requires_grad(true);
    const Tensor y = (*c.module)(x);
    const std::string key = std::string("act.") + c.name;
    // One transcendental function per element: a few float32 ulps apart from PyTorch's.
    expect_close(y, fx[key + ".y"].to_vector<float>(), 1e-5, 1e-6);
    (y * fx["act.r"]).sum().backward();
    expect_close(x.grad(), fx[key + ".dx"].to_vector<float>(), 1e-5, 1e-6);
  }
}

TEST(Activations, GradientsThroughTheModuleApi) {
  const Tensor x = away_from_zero({3, 4}, 21);
  for (auto m : std::vector<std::shared_ptr<nn::Module>>{
           std::make_shared<nn::ReLU>(), std::make_shared<nn::LeakyReLU>(0.1),
           std::make_shared<nn::Sigmoid>(), std::make_shared<nn::Tanh>(),
           std::make_shared<nn::GELU>()}) {
    SCOPED_TRACE(m->type_name());
    nabla::testing::expect_module_gradients_match(*m, x);
  }
}

TEST(Activations, Print) {
  EXPECT_EQ(nn::ReLU().str(), "ReLU()");
  EXPECT_EQ(nn::LeakyReLU().str(), "LeakyReLU(negative_slope=0.01)");
  EXPECT_EQ(nn::LeakyReLU(1.0).str(), "LeakyReLU(negative_slope=1.0)");
  expect_error([] { nn::LeakyReLU(NAN); }, "LeakyReLU: negative_slope must be finite");
}

TEST(Flatten, MergesTheGivenDims) {
  const Tensor x = Tensor::zeros({2, 3, 4, 5});
  EXPECT_EQ(nn::Flatten()(x).shape(), Shape({2, 60}));
  EXPECT_EQ(nn::Flatten(0, 1)(x).shape(), Shape({6, 4, 5}));
  EXPECT_EQ(nn::Flatten(-2)(x).shape(), Shape({2, 3, 20}));
  expect_error([&] { nn::Flatten(2, 1)(x); }, "flatten: start_dim 2 is after end_dim 1");
}

// ---------------------------------------------------------------- construction of the others

TEST(Conv2d, ParametersFollowGroupsAndKernel) {
  nn::Conv2d conv(8, 16, {3, 5}, 2, 1, 1, 2);
  EXPECT_EQ(conv.weight().shape(), Shape({16, 4, 3, 5}));
  EXPECT_EQ(conv.bias().shape(), Shape({16}));
  EXPECT_EQ(conv.options().stride, (nn::functional::Pair{2, 2}));
  EXPECT_EQ(conv.options().groups, 2);
  EXPECT_EQ(names_of(nn::Conv2d(1, 2, 3, 1, 0, 1, 1, false).named_parameters()),
            std::vector<std::string>{"weight"});
  EXPECT_EQ(nn::Conv2d(1, 2, 3).str(), "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))");
}

TEST(Layers, ArgumentsAreValidatedByName) {
  expect_error([] { nn::Linear(0, 3); }, "Linear: in_features must be positive, got 0");
  expect_error([] { nn::Linear(3, -1); }, "Linear: out_features must be positive, got -1");
  expect_error([] { nn::Conv2d(0, 3, 3); }, "Conv2d: in_channels must be positive");
  expect_error([] { nn::Conv2d(3, 4, 3, 1, 0, 1, 2); },
               "Conv2d: in_channels (3) and out_channels (4) must be divisible by groups (2)");
  expect_error(
      [] {
        nn::Conv2d(3, 4, {3, 0});
      },
      "Conv2d: kernel_size must be positive, got (3, 0)");
  expect_error([] { nn::Conv2d(3, 4, 3, 0); }, "Conv2d: stride must be positive");
  expect_error([] { nn::Conv2d(3, 4, 3, 1, -1); }, "Conv2d: padding must be non-negative");
  expect_error([] { nn::Conv2d(3, 4, 3, 1, 0, 0); }, "Conv2d: dilation must be positive");
  expect_error([] { nn::MaxPool2d(2, 2, 2); },
               "MaxPool2d: padding (2, 2) must be non-negative and at most half");
  expect_error([] { nn::AvgPool2d(0); }, "AvgPool2d: kernel_size must be positive");
  expect_error([] { nn::Dropout(1.5); }, "Dropout: p must be in [0, 1], got 1.5");
  expect_error([] { nn::BatchNorm2d(0); }, "BatchNorm2d: num_features must be positive");
  expect_error([] { nn::BatchNorm1d(3, 0.0); }, "BatchNorm1d: eps must be positive");
  expect_error([] { nn::InstanceNorm2d(3, 1e-5, 2.0); },
               "InstanceNorm2d: momentum must be in [0, 1]");
  expect_error([] { nn::LayerNorm({}); }, "LayerNorm: normalized_shape must be non-empty");
  expect_error([] { nn::GroupNorm(4, 6); },
               "GroupNorm: num_channels (6) must be a positive multiple of num_groups (4)");
}

TEST(Norms, ParametersAndBuffersAsPyTorch) {
  nn::BatchNorm2d bn(3);
  EXPECT_EQ(names_of(bn.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(names_of(bn.named_buffers()),
            (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  expect_close(bn.weight(), {1, 1, 1});
  expect_close(bn.bias(), {0, 0, 0});
  expect_close(bn.running_mean(), {0, 0, 0});
  expect_close(bn.running_var(), {1, 1, 1});
  EXPECT_EQ(bn.num_batches_tracked().dtype(), DType::Int64);
  EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 0);

  EXPECT_TRUE(nn::BatchNorm1d(3, 1e-5, 0.1, false).named_parameters().empty());
  EXPECT_TRUE(nn::BatchNorm1d(3, 1e-5, 0.1, true, false).named_buffers().empty());
  nn::InstanceNorm2d in(3);  // PyTorch's defaults: no affine, no running estimates
  EXPECT_TRUE(in.named_parameters().empty());
  EXPECT_TRUE(in.named_buffers().empty());
  nn::LayerNorm ln({2, 3});
  EXPECT_EQ(ln.weight().shape(), Shape({2, 3}));
  EXPECT_EQ(nn::GroupNorm(2, 6).bias().shape(), Shape({6}));
}

TEST(Norms, InputsAreCheckedBeforeNormalising) {
  expect_error(
      [] {
        nn::BatchNorm2d(3)(Tensor::zeros({2, 3, 4}));
      },
      "BatchNorm2d(3): expected input with 4 dims and 3 channels in dim 1, got shape "
      "[2, 3, 4]");
  expect_error(
      [] {
        nn::BatchNorm1d(3)(Tensor::zeros({2, 4}));
      },
      "expected input with 2 or 3 dims and 3 channels");
  expect_error(
      [] {
        nn::LayerNorm({4})(Tensor::zeros({2, 3}));
      },
      "LayerNorm: input of shape [2, 3] does not end with normalized_shape (4,)");
  expect_error(
      [] {
        nn::GroupNorm(1, 3)(Tensor::zeros({2, 4}));
      },
      "GroupNorm(num_channels=3): expected input (N, 3, ...), got shape [2, 4]");
  expect_error(
      [] {
        nn::Conv2d(3, 4, 3)(Tensor::zeros({2, 2, 5, 5}));
      },
      "Conv2d(in_channels=3): expected input (N, 3, H, W), got shape [2, 2, 5, 5]");
}
