// Conv2d, pools, norms and Dropout through the module API: PyTorch parity on fixed weights,
// running estimates, train/eval behaviour, gradients, and the summary of a small CNN.
// The ops themselves are tested in the nn::functional tests.
#include <gtest/gtest.h>

#include "support/gradcheck.h"
#include "support/layer_fixtures.h"
#include "support/module_gradcheck.h"

using namespace nabla;
using nabla::testing::expect_close;
using nabla::testing::expect_error;
using nabla::testing::LayerFixtures;

namespace {
// Reductions over at most 27 (conv) or 50 (norm statistics) float32 terms of O(1) values, in a
// different order than PyTorch's: the results agree to a few 1e-6.
constexpr double kRtol = 1e-5, kAtol = 1e-5;

void expect_matches(const Tensor& actual, const char* key) {
  const Tensor expected = LayerFixtures::get()[key];
  ASSERT_EQ(actual.shape(), expected.shape()) << key;
  expect_close(actual, expected.to_vector<float>(), kRtol, kAtol);
}
}  // namespace

TEST(Conv2dModule, MatchesPyTorch) {
  const auto& fx = LayerFixtures::get();
  nn::Conv2d conv(3, 4, 3, 1, 1);
  conv.load_state_dict({{"weight", fx["cnn.conv.weight"]}, {"bias", fx["cnn.conv.bias"]}});
  expect_matches(conv(fx["cnn.x"]), "cnn.conv.y");
}

TEST(Conv2dModule, GradientsOfInputWeightAndBias) {
  Generator gen(3);
  nn::Conv2d conv(2, 3, {2, 3}, 1, 1, 1, 1, true, &gen);
  nabla::testing::expect_module_gradients_match(conv, nabla::testing::uniform({2, 2, 4, 4}, -1, 1));
}

TEST(PoolModules, MatchPyTorch) {
  const Tensor x = LayerFixtures::get()["cnn.x"];
  expect_matches(nn::MaxPool2d(2)(x), "cnn.maxpool.y");
  expect_matches(nn::AvgPool2d(3, 2, 1)(x), "cnn.avgpool.y");
}

TEST(BatchNormModule, TrainingUpdatesRunningEstimatesAsPyTorch) {
  const auto& fx = LayerFixtures::get();
  const Tensor x = fx["cnn.x"];
  nn::BatchNorm2d bn(3, 1e-5, 0.2);
  bn.load_state_dict({{"weight", fx["cnn.bn.weight"]},
                      {"bias", fx["cnn.bn.bias"]},
                      {"running_mean", Tensor::zeros({3})},
                      {"running_var", Tensor::ones({3})},
                      {"num_batches_tracked", Tensor::zeros({}, {.dtype = DType::Int64})}});
  expect_matches(bn(x), "cnn.bn.train_y");
  bn(x * 0.5f + 1.0f);
  expect_matches(bn.running_mean(), "cnn.bn.running_mean");
  expect_matches(bn.running_var(), "cnn.bn.running_var");
  EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 2);

  bn.eval();  // running estimates are used and left alone
  expect_matches(bn(x), "cnn.bn.eval_y");
  expect_matches(bn.running_mean(), "cnn.bn.running_mean");
  EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 2);
}

TEST(BatchNormModule, WithoutRunningEstimatesAlwaysUsesTheBatch) {
  const Tensor x = nabla::testing::uniform({4, 3}, -2, 3);
  nn::BatchNorm1d bn(3, 1e-5, 0.1, false, false);
  const Tensor train_y = bn(x);
  bn.eval();
  expect_close(bn(x), train_y.to_vector<float>());
  // Each column is normalised: mean 0.
  expect_close(train_y.mean({0}), {0, 0, 0}, 0.0, 1e-5);
  EXPECT_EQ(nn::BatchNorm1d(3)(Tensor::zeros({2, 3, 5})).shape(), Shape({2, 3, 5}));
}

TEST(BatchNormModule, GradientsInTrainingMode) {
  nn::BatchNorm2d bn(2);
  bn.load_state_dict({{"weight", Tensor::from_vector({1.5f, 0.5f}, {2})},
                      {"bias", Tensor::from_vector({0.1f, -0.2f}, {2})},
                      {"running_mean", Tensor::zeros({2})},
                      {"running_var", Tensor::ones({2})},
                      {"num_batches_tracked", Tensor::zeros({}, {.dtype = DType::Int64})}});
  nabla::testing::expect_module_gradients_match(bn, nabla::testing::uniform({3, 2, 2, 2}, -1, 1));
}

TEST(NormModules, LayerGroupAndInstanceNormMatchPyTorch) {
  const Tensor x = LayerFixtures::get()["cnn.x"];
  expect_matches(nn::LayerNorm({5, 5})(x), "cnn.ln.y");
  expect_matches(nn::GroupNorm(1, 3)(x), "cnn.gn.y");
  expect_matches(nn::InstanceNorm2d(3)(x), "cnn.in.y");
}

TEST(InstanceNormModule, TracksRunningEstimatesWhenAsked) {
  nn::InstanceNorm2d in(2, 1e-5, 0.1, true, true);
  EXPECT_EQ(in.named_buffers().size(), 3u);
  in(nabla::testing::uniform({2, 2, 3, 3}, 1, 2));
  EXPECT_EQ(in.num_batches_tracked().item<int64_t>(), 1);
  EXPECT_GT(in.running_mean().sum().item<float>(), 0.0f);
}

TEST(DropoutModule, IdentityInEvalAndDeterministicPerGenerator) {
  const Tensor x = Tensor::ones({100, 100});
  Generator g1(8), g2(8);
  nn::Dropout a(0.3, &g1), b(0.3, &g2);
  const Tensor ya = a(x), yb = b(x);
  EXPECT_EQ(ya.to_vector<float>(), yb.to_vector<float>());
  // Kept elements are scaled by 1/(1-p); about 30% are zero (10^4 draws: SE 0.46%, 6 SE).
  const std::vector<float> v = ya.to_vector<float>();
  int64_t zeros = 0;
  for (float e : v) {
    if (e == 0.0f)
      ++zeros;
    else
      EXPECT_FLOAT_EQ(e, 1.0f / 0.7f);
  }
  EXPECT_NEAR(static_cast<double>(zeros) / v.size(), 0.3, 6 * 0.0046);
  a.eval();
  expect_close(a(x), std::vector<float>(10000, 1.0f));
  nn::Dropout none(0.0);
  expect_close(none(x), std::vector<float>(10000, 1.0f));
}

TEST(Summary, SmallCnnShapesAndCounts) {
  nn::Sequential model{nn::Conv2d(1, 8, 3, 1, 1), nn::BatchNorm2d(8), nn::ReLU(),
                       nn::MaxPool2d(2),          nn::Flatten(),      nn::Linear(8 * 14 * 14, 10)};
  const std::string s = nn::summary(model, {2, 1, 28, 28});
  for (const char* needle : {"0 (Conv2d)", "[2, 8, 28, 28]", "80", "3 (MaxPool2d)",
                             "[2, 8, 14, 14]", "[2, 1568]", "15,690", "Total params: 15,786"})
    EXPECT_NE(s.find(needle), std::string::npos) << needle << " not in:\n" << s;
  // The summary runs in eval mode: the running estimates did not move.
  EXPECT_EQ(model.get<nn::BatchNorm2d>(1).num_batches_tracked().item<int64_t>(), 0);
  EXPECT_TRUE(model[1].is_training());
}
