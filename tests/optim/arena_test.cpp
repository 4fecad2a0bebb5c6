// nn::ParameterArena as make_optimizer builds it: layout, aliasing of the user's handles and
// gradients accumulating straight into the flat buffer.
#include <gtest/gtest.h>

#include "support/gradcheck.h"

using namespace nabla;
using nabla::testing::expect_close;
using nabla::testing::expect_error;

namespace {

nn::NamedTensors sample_params() {
  return {{"w", Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad(true)},
          {"b", Tensor::from_vector({7, 8}, {2}).requires_grad(true)},
          {"s", Tensor::from_vector(std::vector<float>(17, 0.5f), {17}).requires_grad(true)}};
}

TEST(Arena, EveryParameterOnceAlignedInOrder) {
  const auto params = sample_params();
  const auto arena = nn::ParameterArena::build(params);
  ASSERT_EQ(arena->entries().size(), 3u);
  int64_t expected_offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& e = arena->entries()[i];
    EXPECT_EQ(e.name, params[i].first);
    EXPECT_EQ(e.offset, expected_offset);
    EXPECT_EQ(e.offset % nn::ParameterArena::kAlignment, 0);
    EXPECT_EQ(e.numel, params[i].second.numel());
    EXPECT_EQ(arena->find(e.name), int64_t(i));
    // 64-byte aligned addresses, for vectorised loads.
    EXPECT_EQ(reinterpret_cast<uintptr_t>(e.param.data<float>()) % 64, 0u);
    expected_offset += (e.numel + 15) / 16 * 16;
  }
  EXPECT_EQ(arena->size(), expected_offset);
  EXPECT_EQ(arena->find("nope"), -1);
  // Values copied in; padding zero.
  const auto flat = arena->flat_params().to_vector<float>();
  EXPECT_EQ(flat[0], 1.0f);
  EXPECT_EQ(flat[5], 6.0f);
  EXPECT_EQ(flat[6], 0.0f);
  EXPECT_EQ(flat[16], 7.0f);
  EXPECT_EQ(flat[32], 0.5f);
}

TEST(Arena, HandlesSeeTheArenaAndGradsAreSlices) {
  const auto params = sample_params();
  Tensor copy_of_w = params[0].second;  // another handle, taken before the arena exists
  const auto arena = nn::ParameterArena::build(params);
  arena->flat_params().fill_(3.0);
  expect_close(copy_of_w, {3, 3, 3, 3, 3, 3});
  arena->flat_grads().fill_(2.0);
  expect_close(copy_of_w.grad(), {2, 2, 2, 2, 2, 2});
  arena->zero_grad();
  expect_close(params[1].second.grad(), {0, 0});
}

TEST(Arena, BackwardAccumulatesIntoTheFlatBuffer) {
  auto params = sample_params();
  auto opt = optim::make_optimizer(params, optim::SGDConfig{});
  const Tensor& w = params[0].second;
  const Tensor& b = params[1].second;
  for (int i = 0; i < 2; ++i) (w.sum() * 2.0f + b.sum()).backward();
  const auto g = opt->arena()->flat_grads().to_vector<float>();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(g[i], 4.0f);
  EXPECT_EQ(g[16], 2.0f);
  EXPECT_EQ(g[17], 2.0f);
  EXPECT_EQ(g[32], 0.0f);
  EXPECT_EQ(w.grad().data<float>(), opt->arena()->flat_grads().data<float>());
  opt->zero_grad();
  expect_close(w.grad(), {0, 0, 0, 0, 0, 0});
}

TEST(Arena, RejectsDuplicatesAndBadTensors) {
  const Tensor t = Tensor::zeros({3}).requires_grad(true);
  expect_error(
      [&] {
        nn::ParameterArena::build({{"a", t}, {"a", Tensor::zeros({2})}});
      },
      "appears twice");
  expect_error([&] { nn::ParameterArena::build({{"a", t}, {"b", t}}); }, "same tensor");
  expect_error(
      [&] {
        nn::ParameterArena::build({{"i", Tensor::arange(3, {.dtype = DType::Int64})}});
      },
      "expected float32");
}

}  // namespace

TEST(Arena, MovingTheModelAfterwardsIsAClearError) {
  auto model = std::make_shared<nabla::nn::Linear>(3, 2);
  auto opt = nabla::optim::make_optimizer(*model, nabla::optim::SGDConfig{.lr = 0.1});
  // Re-pointing a parameter (what Module::to does) takes it out of the arena.
  auto params = model->parameters();
  params[0].impl()->storage = nabla::Tensor::zeros({2, 3}).impl()->storage;
  params[0].impl()->offset = 0;
  nabla::testing::expect_error([&] { opt->step(); }, "no longer lives");
}

// A second optimizer over the same model shares the first's arena: both keep working, each
// updating the same weights (as two PyTorch optimizers over one model do).
TEST(Arena, ASecondOptimizerOverTheSameModelSharesTheArena) {
  auto model = std::make_shared<nabla::nn::Linear>(3, 2);
  auto first = nabla::optim::make_optimizer(*model, nabla::optim::SGDConfig{.lr = 0.1});
  auto second = nabla::optim::make_optimizer(*model, nabla::optim::AdamConfig{.lr = 0.01});
  EXPECT_EQ(first->arena()->flat_params().data<float>(),
            second->arena()->flat_params().data<float>());
  const Tensor x = nabla::Tensor::ones({4, 3});
  const std::vector<float> before = model->parameters()[0].to_vector<float>();
  (*model)(x).sum().backward();
  const std::vector<float> grad = model->parameters()[0].grad().to_vector<float>();
  ASSERT_TRUE(first->step());
  const std::vector<float> after = model->parameters()[0].to_vector<float>();
  for (std::size_t i = 0; i < before.size(); ++i)
    EXPECT_FLOAT_EQ(after[i], before[i] - 0.1f * grad[i]);
  EXPECT_TRUE(second->step());  // Adam's first step moves each weight by lr against the sign
  const std::vector<float> last = model->parameters()[0].to_vector<float>();
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_NEAR(last[i], after[i] - 0.01f, 1e-6);
  second->zero_grad();
  EXPECT_EQ(model->parameters()[0].grad().sum().item<float>(), 0.0f);  // one gradient buffer
  // In another order the parameters leave the first optimizer's arena, which it says.
  const std::vector<Tensor> p = model->parameters();
  auto reordered = nabla::optim::make_optimizer(
      nabla::nn::NamedTensors{{"bias", p[1]}, {"weight", p[0]}}, nabla::optim::SGDConfig{});
  nabla::testing::expect_error([&] { first->step(); }, "an optimizer over another set or order");
}
