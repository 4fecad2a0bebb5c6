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

namespace {
// PyTorch's ReduceLROnPlateau in mode max with a relative threshold, for one group.
struct MaxPlateau {
  double lr, factor, threshold;
  int64_t patience;
  double best = -INFINITY;
  int64_t bad = 0;
  void step(double metric) {
    if (metric > best * (1.0 + threshold)) {
      best = metric;
      bad = 0;
    } else if (++bad > patience) {
      lr *= factor;
      bad = 0;
    }
  }
};
}  // namespace

// Driven by the validation accuracy in mode max, the rate drops after `patience` evaluations
// without an improvement of the accuracy and stays while it improves; a resumed run continues
// the schedule's count.
TEST(TrainerLoop, PlateauFollowsTheValidationAccuracyInModeMax) {
  auto train_set = toy_data(5, 128), val_set = toy_data(6, 64);
  const sched::ReduceLROnPlateauConfig plateau{
      .mode = sched::PlateauMode::Max, .factor = 0.5, .patience = 1};
  const optim::SGDConfig sgd{.lr = 0.05};
  nabla::testing::TempDir dir("nabla_plateau");
  train::TrainerConfig config = quiet({.epochs = 14,
                                       .batch_size = 16,
                                       .seed = 4,
                                       .checkpoint_dir = dir.path().string(),
                                       .keep_last = 0});
  config.plateau_metric = "val_accuracy";
  train::Trainer trainer(mlp(), sgd, plateau, config);
  const train::History h = trainer.fit(*train_set, val_set.get());
  ASSERT_EQ(h.epochs.size(), 14u);
  MaxPlateau expected{.lr = 0.05, .factor = 0.5, .threshold = 1e-4, .patience = 1};
  int drops = 0, kept_while_improving = 0;
  for (const train::EpochMetrics& m : h.epochs) {
    SCOPED_TRACE(m.epoch);
    EXPECT_DOUBLE_EQ(m.lr, expected.lr);
    const double before = expected.lr, best = expected.best;
    expected.step(*m.test_accuracy);
    drops += expected.lr < before;
    kept_while_improving += m.epoch > 1 && *m.test_accuracy > best && expected.lr == before;
  }
  EXPECT_GT(drops, 0);
  EXPECT_GT(kept_while_improving, 0);
  EXPECT_DOUBLE_EQ(trainer.optimizer().lr(), expected.lr);

  // Resumed after epoch 5 (step 40), the plateau's best and count carry on.
  train::TrainerConfig resumed_config = config;
  resumed_config.checkpoint_dir = (dir / "resumed").string();
  resumed_config.resume = (dir / train::checkpoint_filename(40)).string();
  train::Trainer resumed(mlp(9), sgd, plateau, resumed_config);
  const train::History rest = resumed.fit(*train_set, val_set.get());
  ASSERT_EQ(rest.epochs.size(), 9u);
  for (size_t i = 0; i < rest.epochs.size(); ++i) {
    EXPECT_EQ(rest.epochs[i].lr, h.epochs[5 + i].lr);
    EXPECT_EQ(rest.epochs[i].test_accuracy, h.epochs[5 + i].test_accuracy);
  }
}

// A constant accuracy is never an improvement: with patience 2 the rate halves once three
// evaluations in a row bring none; a metric the run does not have is an error.
TEST(TrainerLoop, PlateauOnAFlatAccuracyAndItsErrors) {
  auto data = toy_data(7, 64);
  train::TrainerConfig config = quiet({.epochs = 7, .batch_size = 16});
  config.plateau_metric = "train_accuracy";
  const sched::ReduceLROnPlateauConfig plateau{
      .mode = sched::PlateauMode::Max, .factor = 0.5, .patience = 2, .eps = 0.0};
  train::Trainer trainer(mlp(), optim::SGDConfig{.lr = 1e-12}, plateau, config);
  const train::History h = trainer.fit(*data);
  const std::vector<double> lrs = {1e-12, 1e-12, 1e-12, 1e-12, 0.5e-12, 0.5e-12, 0.5e-12};
  ASSERT_EQ(h.epochs.size(), lrs.size());
  for (size_t i = 0; i < lrs.size(); ++i) EXPECT_DOUBLE_EQ(h.epochs[i].lr, lrs[i]) << i;

  config.plateau_metric = "val_accuracy";
  train::Trainer without_val(mlp(), optim::SGDConfig{.lr = 0.1}, plateau, config);
  EXPECT_THROW(without_val.fit(*data), Error);
  config.plateau_metric = "val_top1";
  EXPECT_THROW(train::validate(config), Error);
}

// The command line and a TOML file reach these settings by the fields' names.
TEST(TrainerLoop, FlagsReachTheConfig) {
  train::RunOptions o;
  const char* argv[] = {"prog", "--scheduler",      "plateau",     "--mode",
                        "max",  "--plateau-metric", "val_accuracy"};
  train::apply_command_line(o, static_cast<int>(std::size(argv)), argv);
  EXPECT_EQ(o.trainer.plateau_metric, "val_accuracy");
  ASSERT_TRUE(std::holds_alternative<sched::ReduceLROnPlateauConfig>(o.scheduler));
  EXPECT_EQ(std::get<sched::ReduceLROnPlateauConfig>(o.scheduler).mode, sched::PlateauMode::Max);
  EXPECT_NE(train::usage("prog", o).find("--plateau-metric"), std::string::npos);

  nabla::testing::TempDir dir("nabla_loop_toml");
  const fs::path file = dir / "run.toml";
  std::ofstream(file) << "[trainer]\nplateau_metric = \"train_loss\"\n";
  train::apply_config_file(o, file.string());
  EXPECT_EQ(o.trainer.plateau_metric, "train_loss");
}
