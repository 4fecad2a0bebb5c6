// Optimizer::group_config and set_group_config: any hyperparameter of one parameter group changed
// at run time, as PyTorch's param_groups[g][name] = value, saved with the state and taken over by
// a resume that names a new value.
#include <gtest/gtest.h>

#include <cstring>

#include "nabla/nabla.h"
#include "support/gradcheck.h"
#include "support/idx_writer.h"
#include "support/toy_training.h"

using namespace nabla;
using nabla::testing::expect_error;

namespace {

// The gradients of step t for the first and the second parameter.
Tensor gradient(bool first, int t) {
  return first ? Tensor::from_vector({0.1f * t, -0.3f, 0.7f}, {3})
               : Tensor::from_vector({-0.2f, 0.05f * t}, {2});
}

// Two parameters, one per group, with those gradients.
struct TwoGroups {
  Tensor a = Tensor::from_vector({1.0f, -2.0f, 0.5f}, {3}).requires_grad(true);
  Tensor b = Tensor::from_vector({0.25f, 3.0f}, {2}).requires_grad(true);
  std::unique_ptr<optim::Optimizer> make(const optim::OptimizerConfig& config) {
    return optim::make_optimizer(
        {optim::ParamGroup{.params = {{"a", a}}}, optim::ParamGroup{.params = {{"b", b}}}}, config);
  }
  void set_grads(int t) {
    a.grad().copy_(gradient(true, t));
    b.grad().copy_(gradient(false, t));
  }
};

// Steps an optimizer over one tensor alone, with the first or the second parameter's gradients.
std::vector<float> alone(Tensor start, const optim::OptimizerConfig& config, bool first,
                         int steps) {
  Tensor p = start.detach().clone().requires_grad(true);
  auto opt = optim::make_optimizer({p}, config);
  for (int t = 1; t <= steps; ++t) {
    p.grad().copy_(gradient(first, t));
    opt->step();
  }
  return p.to_vector<float>();
}

bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

}  // namespace

TEST(GroupConfig, SetsAnyHyperparameterOfOneGroup) {
  const optim::AdamConfig base{.lr = 0.01};
  const optim::AdamConfig own{.lr = 0.02, .betas = {0.5, 0.9}, .eps = 1e-3, .weight_decay = 0.1};
  TwoGroups g;
  const Tensor a0 = g.a.detach().clone(), b0 = g.b.detach().clone();
  auto opt = g.make(base);
  opt->set_group_config(1, own);
  for (int t = 1; t <= 3; ++t) {
    g.set_grads(t);
    opt->step();
  }
  // Each group steps as an optimizer of its own config would.
  EXPECT_TRUE(same_bits(g.a.to_vector<float>(), alone(a0, base, true, 3)));
  EXPECT_TRUE(same_bits(g.b.to_vector<float>(), alone(b0, own, false, 3)));
  const auto reported = std::get<optim::AdamConfig>(*opt->group_config(1));
  EXPECT_EQ(reported.betas, own.betas);
  EXPECT_EQ(reported.eps, own.eps);
  EXPECT_EQ(reported.lr, 0.02);
  EXPECT_EQ(opt->group_lr(1), 0.02);
  EXPECT_EQ(std::get<optim::AdamConfig>(*opt->group_config(0)).eps, base.eps);
}

// lr, weight_decay and momentum as the group has them now: a schedule's, a cycled momentum.
TEST(GroupConfig, ReportsTheGroupsCurrentValues) {
  TwoGroups g;
  auto opt = g.make(optim::SGDConfig{.lr = 0.1, .momentum = 0.9});
  opt->set_group_lr(0, 0.05);
  opt->set_group_momentum(0, 0.8);
  const auto sgd = std::get<optim::SGDConfig>(*opt->group_config(0));
  EXPECT_EQ(sgd.lr, 0.05);
  EXPECT_EQ(sgd.momentum, 0.8);
  EXPECT_EQ(std::get<optim::SGDConfig>(*opt->group_config(1)).momentum, 0.9);
  auto adam = g.make(optim::AdamConfig{});
  adam->set_group_momentum(1, 0.7);
  EXPECT_EQ(std::get<optim::AdamConfig>(*adam->group_config(1)).betas[0], 0.7);
  expect_error([&] { opt->group_config(2); }, "group");
}

TEST(GroupConfig, RefusesWhatItCannotTake) {
  TwoGroups g;
  auto adam = g.make(optim::AdamConfig{});
  expect_error([&] { adam->set_group_config(0, optim::SGDConfig{}); },
               "a SGD config, not one of Adam");
  expect_error([&] { adam->set_group_config(0, optim::AdamConfig{.eps = -1}); },
               "AdamConfig: invalid eps -1");
  expect_error([&] { adam->set_group_config(0, optim::AdamConfig{.amsgrad = true}); },
               "changes which state the optimizer keeps");
  expect_error([&] { adam->set_group_config(0, optim::AdamConfig{.skip_nonfinite = false}); },
               "skip_nonfinite is the whole optimizer's");
  auto sgd = g.make(optim::SGDConfig{});
  expect_error([&] { sgd->set_group_config(1, optim::SGDConfig{.momentum = 0.9}); },
               "changes which state");
}

// A group's own values are saved where they differ, and a loaded state goes on bit for bit.
TEST(GroupConfig, SavedWithTheState) {
  const optim::AdaptiveGainConfig base{.lr = 0.01, .max_gain = 10};
  TwoGroups g;
  auto opt = g.make(base);
  opt->set_group_config(
      1, optim::AdaptiveGainConfig{
             .lr = 0.01, .beta = 0.2, .max_gain = std::numeric_limits<double>::infinity()});
  g.set_grads(1);
  opt->step();
  const State s = opt->state_dict();
  EXPECT_EQ(s.scalars.at("group.1.config.beta"), 0.2);
  EXPECT_EQ(s.scalars.at("group.1.config.max_gain.inf"), 1.0);
  EXPECT_EQ(s.scalars.count("group.0.config.beta"), 0u);
  EXPECT_EQ(s.scalars.count("group.1.config.min_gain"), 0u);  // unchanged

  TwoGroups h;
  h.a.detach().copy_(g.a.detach());
  h.b.detach().copy_(g.b.detach());
  auto loaded = h.make(base);
  loaded->load_state_dict(s);
  EXPECT_EQ(std::get<optim::AdaptiveGainConfig>(*loaded->group_config(1)).beta, 0.2);
  for (int t = 2; t <= 4; ++t) {
    g.set_grads(t);
    opt->step();
    h.set_grads(t);
    loaded->step();
  }
  EXPECT_TRUE(same_bits(h.a.to_vector<float>(), g.a.to_vector<float>()));
  EXPECT_TRUE(same_bits(h.b.to_vector<float>(), g.b.to_vector<float>()));
  // A saved value out of range is a corrupted file.
  State bad = s;
  bad.scalars["group.1.config.beta"] = 2.0;
  expect_error([&] { h.make(base)->load_state_dict(bad); }, "group 1's saved config is invalid");
  // So is one that would change the state the optimizer keeps.
  TwoGroups k;
  auto adam = k.make(optim::AdamConfig{});
  State flipped = adam->state_dict();
  flipped.scalars["group.0.config.amsgrad"] = 1.0;
  flipped.scalars["group.0.config.amsgrad.inf"] = 0.0;
  expect_error([&] { k.make(optim::AdamConfig{})->load_state_dict(flipped); },
               "changes which state the optimizer keeps");
}

// Resumed, the group keeps its own value, unless the run names a new one for that field.
TEST(GroupConfig, AResumeKeepsItUnlessTheFieldIsNamedAnew) {
  auto data = nabla::testing::toy_classes(5);
  nabla::testing::TempDir dir("nabla_group_config");
  auto model = [] {
    Generator gen(3);
    return std::make_shared<nn::Sequential>(nn::Linear(8, 4, true, &gen));
  };
  train::TrainerConfig config =
      nabla::testing::quiet({.epochs = 1, .batch_size = 32, .checkpoint_dir = dir.path().string()});
  train::Trainer first(model(), optim::AdamConfig{.lr = 0.01}, sched::NoSchedulerConfig{}, config);
  first.on_step_end = [&](const train::StepInfo& step) {
    if (step.step == 1)
      first.optimizer().set_group_config(0, optim::AdamConfig{.lr = 0.01, .eps = 1e-3});
  };
  first.fit(*data);
  config.epochs = 2;
  config.resume = dir.path().string();
  config.overwrite = true;
  train::Trainer kept(model(), optim::AdamConfig{.lr = 0.01}, sched::NoSchedulerConfig{}, config);
  EXPECT_EQ(std::get<optim::AdamConfig>(*kept.optimizer().group_config(0)).eps, 1e-3);
  train::Trainer named(model(), optim::AdamConfig{.lr = 0.01, .eps = 1e-4},
                       sched::NoSchedulerConfig{}, config);
  EXPECT_EQ(std::get<optim::AdamConfig>(*named.optimizer().group_config(0)).eps, 1e-4);
}
