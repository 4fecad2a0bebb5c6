// Trainer: the learning rate each step reports, the metric a plateau schedule follows, a step
// limit, gradient accumulation and user metrics.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nabla/nabla.h"
#include "support/idx_writer.h"

using namespace nabla;
namespace fs = std::filesystem;

namespace {

// n points in 8 dimensions, labelled by the argmax of a fixed linear map: learnable.
std::shared_ptr<data::TensorDataset> toy_data(uint64_t seed, int64_t n = 96) {
  Generator gen(seed);
  const Tensor x = Tensor::randn({n, 8}, &gen);
  Generator wgen(1000);
  const Tensor w = Tensor::randn({8, 4}, &wgen);
  return std::make_shared<data::TensorDataset>(x, argmax(matmul(x, w), 1));
}

// Without dropout or batch norm: a batch's gradient is a pure function of the weights.
std::shared_ptr<nn::Sequential> mlp(uint64_t seed = 3) {
  Generator gen(seed);
  return std::make_shared<nn::Sequential>(nn::Linear(8, 16, true, &gen), nn::Tanh(),
                                          nn::Linear(16, 4, true, &gen));
}

train::TrainerConfig quiet(train::TrainerConfig c) {
  c.progress = train::ProgressMode::Off;
  c.handle_signals = false;
  return c;
}

}  // namespace

// StepInfo.lr and EpochMetrics.lr are the rates the steps used: with an iteration schedule, the
// step that ends at global step s used lr0 * gamma^(s - 1); with an epoch schedule, every step
// of epoch e used lr0 * gamma^(e - 1).
TEST(TrainerLoop, ReportedLrIsTheLrTheStepUsed) {
  auto data = toy_data(1);  // 6 batches of 16
  const double lr0 = 0.1, gamma = 0.5;
  for (const sched::StepUnit unit : {sched::StepUnit::Iteration, sched::StepUnit::Epoch}) {
    const bool per_step = unit == sched::StepUnit::Iteration;
    SCOPED_TRACE(per_step ? "iteration" : "epoch");
    train::Trainer trainer(mlp(), optim::SGDConfig{.lr = lr0},
                           sched::ExponentialLRConfig{.gamma = gamma, .unit = unit},
                           quiet({.epochs = 3, .batch_size = 16}));
    std::vector<train::StepInfo> steps;
    trainer.on_step_end = [&](const train::StepInfo& s) { steps.push_back(s); };
    const train::History h = trainer.fit(*data);
    ASSERT_EQ(steps.size(), 18u);
    auto expected = [&](int64_t step, int64_t epoch) {
      return lr0 * std::pow(gamma, static_cast<double>(per_step ? step - 1 : epoch - 1));
    };
    for (const train::StepInfo& s : steps) EXPECT_DOUBLE_EQ(s.lr, expected(s.step, s.epoch));
    ASSERT_EQ(h.epochs.size(), 3u);
    for (const train::EpochMetrics& m : h.epochs)
      EXPECT_DOUBLE_EQ(m.lr, expected(m.step, m.epoch)) << "epoch " << m.epoch;
  }
}
