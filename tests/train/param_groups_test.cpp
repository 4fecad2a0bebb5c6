// Trainer with parameter groups: per-layer learning rates, weight decay only on the weights, one
// LambdaLR lambda per group, exact resume, and groups that do not fit the model.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "nabla/nabla.h"
#include "support/idx_writer.h"
#include "support/toy_training.h"

using namespace nabla;
using nabla::testing::flat_params;
using nabla::testing::quiet;
using nabla::testing::toy_classes;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<nn::Sequential> toy_model() {
  Generator gen(3);
  return std::make_shared<nn::Sequential>(nn::Linear(8, 16, true, &gen), nn::ReLU(),
                                          nn::Linear(16, 4, true, &gen));
}

// The model's parameters by name, as values.
std::map<std::string, std::vector<float>> values(nn::Module& model) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, p] : model.named_parameters()) out[name] = p.to_vector<float>();
  return out;
}

nn::NamedTensors named(nn::Module& model, std::initializer_list<const char*> names) {
  nn::NamedTensors out;
  for (const auto& [name, p] : model.named_parameters())
    for (const char* wanted : names)
      if (name == wanted) out.emplace_back(name, p);
  return out;
}

}  // namespace

TEST(ParamGroups, EachGroupTrainsAtItsOwnRate) {
  auto data = toy_classes(7);
  auto model = toy_model();
  const auto before = values(*model);
  // The first layer frozen by a zero rate, the second at the config's.
  std::vector<optim::ParamGroup> groups(2);
  groups[0].params = named(*model, {"0.weight", "0.bias"});
  groups[0].lr = 0.0;
  groups[1].params = named(*model, {"2.weight", "2.bias"});
  train::Trainer trainer(model, groups, optim::SGDConfig{.lr = 0.1, .momentum = 0.9},
                         sched::NoSchedulerConfig{}, quiet({.epochs = 2, .batch_size = 32}));
  trainer.fit(*data);
  ASSERT_EQ(trainer.optimizer().num_groups(), 2);
  EXPECT_EQ(trainer.optimizer().group_lr(0), 0.0);
  EXPECT_EQ(trainer.optimizer().group_lr(1), 0.1);
  const auto after = values(*model);
  EXPECT_EQ(after.at("0.weight"), before.at("0.weight"));
  EXPECT_EQ(after.at("0.bias"), before.at("0.bias"));
  EXPECT_NE(after.at("2.weight"), before.at("2.weight"));
  EXPECT_NE(after.at("2.bias"), before.at("2.bias"));
}

TEST(ParamGroups, WeightDecayOnlyWhereTheGroupsPutIt) {
  // With zero gradients (an lr-0 group cannot show decay, so: a loss that ignores the model's
  // output), SGD's update is -lr * weight_decay * p: only the decayed group shrinks.
  auto data = toy_classes(7);
  auto model = toy_model();
  const auto before = values(*model);
  train::Trainer trainer(model, optim::weight_decay_groups(model->named_parameters()),
                         optim::SGDConfig{.lr = 0.1, .weight_decay = 0.5},
                         sched::NoSchedulerConfig{}, quiet({.epochs = 1, .batch_size = 96}));
  trainer.set_loss([](const Tensor& out, const Tensor&) { return mul(out, 0.0f).sum(); });
  trainer.fit(*data);
  const auto after = values(*model);
  for (const char* weight : {"0.weight", "2.weight"})
    for (size_t i = 0; i < after.at(weight).size(); ++i)
      ASSERT_FLOAT_EQ(after.at(weight)[i], before.at(weight)[i] * (1.0f - 0.1f * 0.5f)) << weight;
  EXPECT_EQ(after.at("0.bias"), before.at("0.bias"));
  EXPECT_EQ(after.at("2.bias"), before.at("2.bias"));
}

TEST(ParamGroups, OneLambdaPerGroupAndAnExactResume) {
  auto data = toy_classes(7);
  const fs::path dir =
      fs::temp_directory_path() / ("nabla_param_groups_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto schedule = sched::LambdaLRConfig{
      .lr_lambdas = {[](int64_t) { return 1.0; }, [](int64_t t) { return std::pow(0.5, t); }}};
  const auto make = [&](std::shared_ptr<nn::Sequential> model, train::TrainerConfig config) {
    return std::make_unique<train::Trainer>(
        model, optim::weight_decay_groups(model->named_parameters()),
        optim::AdamWConfig{.lr = 1e-2, .weight_decay = 0.1}, schedule, quiet(config));
  };
  auto whole = toy_model();
  auto uninterrupted = make(whole, {.epochs = 3, .batch_size = 32});
  uninterrupted->fit(*data);
  EXPECT_EQ(uninterrupted->optimizer().group_lr(0), 1e-2);
  EXPECT_EQ(uninterrupted->optimizer().group_lr(1), 1e-2 * std::pow(0.5, 3));

  auto first = toy_model();
  make(first, {.epochs = 2, .batch_size = 32, .checkpoint_dir = dir.string()})->fit(*data);
  auto resumed = toy_model();
  auto rest =
      make(resumed,
           {.epochs = 3, .batch_size = 32, .checkpoint_dir = dir.string(), .resume = dir.string()});
  rest->fit(*data);
  EXPECT_EQ(values(*resumed), values(*whole));
  EXPECT_EQ(rest->optimizer().group_lr(1), 1e-2 * std::pow(0.5, 3));
  fs::remove_all(dir);
}

TEST(ParamGroups, GroupsThatDoNotFitTheModelAreErrors) {
  auto model = toy_model();
  const auto trainer_with = [&](std::vector<optim::ParamGroup> groups) {
    train::Trainer(model, std::move(groups), optim::SGDConfig{.lr = 0.1},
                   sched::NoSchedulerConfig{}, quiet({}));
  };
  std::vector<optim::ParamGroup> unknown(1);
  unknown[0].params = {{"3.weight", Tensor::zeros({2})}};
  EXPECT_THROW(
      {
        try {
          trainer_with(unknown);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("parameter group 0 names '3.weight', which is not "
                                               "a parameter of the model"),
                    std::string::npos)
              << e.what();
          throw;
        }
      },
      Error);
  std::vector<optim::ParamGroup> twice(2);
  twice[0].params = named(*model, {"0.weight"});
  twice[1].params = named(*model, {"0.weight", "0.bias"});
  EXPECT_THROW(trainer_with(twice), Error);
  std::vector<optim::ParamGroup> empty(1);
  EXPECT_THROW(trainer_with(empty), Error);
}

// An optimizer the caller built: one of nabla's trains as the config would, bit for bit, and
// its config is recorded; one of the program's own trains, checkpoints and resumes.
TEST(BuiltOptimizer, NablasTrainsAsItsConfig) {
  auto data = toy_classes(11);
  const optim::AdamConfig adam{.lr = 0.01};
  const train::TrainerConfig config = quiet({.epochs = 2, .batch_size = 32, .seed = 4});
  auto from_config = toy_model();
  train::Trainer a(from_config, adam, sched::NoSchedulerConfig{}, config);
  a.fit(*data);
  auto built = toy_model();
  train::Trainer b(built, optim::make_optimizer(built->named_parameters(), adam),
                   sched::NoSchedulerConfig{}, config);
  b.fit(*data);
  EXPECT_EQ(flat_params(*built), flat_params(*from_config));
  ASSERT_TRUE(b.optimizer().config().has_value());
  EXPECT_TRUE(std::holds_alternative<optim::AdamConfig>(*b.optimizer().config()));
}

namespace {

// Plain gradient descent over the parameters themselves: an optimizer of a program's own.
class PlainDescent final : public optim::Optimizer {
 public:
  PlainDescent(nn::NamedTensors params, double lr) : Optimizer({lr}), params_(std::move(params)) {}
  bool step() override {
    NoGradGuard no_grad;
    for (auto& [name, p] : params_) {
      std::vector<float> w = p.to_vector<float>();
      const std::vector<float> g = p.grad().to_vector<float>();
      for (size_t i = 0; i < w.size(); ++i) w[i] -= static_cast<float>(group_lr(0)) * g[i];
      p.copy_(Tensor::from_vector(w, p.shape()));
    }
    ++step_count_;
    return true;
  }
  void zero_grad() override {
    for (auto& [name, p] : params_)
      if (p.grad().defined()) p.grad().zero_();
  }
  std::string type_name() const override { return "PlainDescent"; }
  State state_dict() const override {
    State s;
    s.scalars["step"] = static_cast<double>(step_count_);
    s.scalars["group.0.lr"] = group_lr(0);
    return s;
  }
  void load_state_dict(const State& s) override {
    step_count_ = static_cast<int64_t>(s.scalars.at("step"));
    group_lrs_[0] = s.scalars.at("group.0.lr");
  }

 private:
  nn::NamedTensors params_;
};

}  // namespace

TEST(BuiltOptimizer, AProgramsOwnTrainsAndResumes) {
  auto data = toy_classes(12);
  nabla::testing::TempDir dir("nabla_built_optimizer");
  const train::TrainerConfig config =
      quiet({.epochs = 3, .batch_size = 32, .checkpoint_dir = dir.path().string()});
  auto model = toy_model();
  train::Trainer trainer(model, std::make_unique<PlainDescent>(model->named_parameters(), 0.2),
                         sched::StepLRConfig{.step_size = 1, .gamma = 0.5}, config);
  const train::History history = trainer.fit(*data);
  EXPECT_LT(history.epochs.back().train_loss, history.epochs.front().train_loss);
  EXPECT_EQ(trainer.optimizer().step_count(), 9);
  EXPECT_DOUBLE_EQ(trainer.optimizer().lr(), 0.025);  // the schedule drives it as any other
  // A resume runs on from the checkpoint's step with the program's optimizer.
  auto resumed = toy_model();
  train::TrainerConfig more = config;
  more.epochs = 4;
  more.resume = dir.path().string();
  train::Trainer next(resumed, std::make_unique<PlainDescent>(resumed->named_parameters(), 0.2),
                      sched::StepLRConfig{.step_size = 1, .gamma = 0.5}, more);
  EXPECT_EQ(next.global_step(), 9);
  EXPECT_EQ(next.fit(*data).epochs.size(), 1u);
  EXPECT_THROW(train::Trainer(toy_model(), nullptr, sched::NoSchedulerConfig{}, config), Error);
}
