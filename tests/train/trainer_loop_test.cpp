// Trainer: the learning rate each step reports, the metric a plateau schedule follows, a step
// limit, gradient accumulation and user metrics.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nabla/nabla.h"
#include "support/command_line.h"
#include "support/idx_writer.h"
#include "support/toy_training.h"

using namespace nabla;
using nabla::testing::flat_params;
using nabla::testing::quiet;
using nabla::testing::toy_classes;
namespace fs = std::filesystem;

namespace {

// Without dropout or batch norm: a batch's gradient is a pure function of the weights.
std::shared_ptr<nn::Sequential> mlp(uint64_t seed = 3) {
  Generator gen(seed);
  return std::make_shared<nn::Sequential>(nn::Linear(8, 16, true, &gen), nn::Tanh(),
                                          nn::Linear(16, 4, true, &gen));
}

}  // namespace

// StepInfo.lr and EpochMetrics.lr are the rates the steps used: with an iteration schedule, the
// step that ends at global step s used lr0 * gamma^(s - 1); with an epoch schedule, every step
// of epoch e used lr0 * gamma^(e - 1).
TEST(TrainerLoop, ReportedLrIsTheLrTheStepUsed) {
  auto data = toy_classes(1);  // 6 batches of 16
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
  auto train_set = toy_classes(5, 128), val_set = toy_classes(6, 64);
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
  auto data = toy_classes(7, 64);
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
  config.plateau_metric = "accuracy";
  EXPECT_THROW(train::validate(config), Error);
}

// The command line and a TOML file reach these settings by the fields' names.
TEST(TrainerLoop, FlagsReachTheConfig) {
  nabla::testing::TrainingCommandLine command_line;
  train::RunOptions& o = command_line.options;
  const char* argv[] = {"prog",
                        "--scheduler",
                        "plateau",
                        "--mode",
                        "max",
                        "--plateau-metric",
                        "val_accuracy",
                        "--max-steps",
                        "7",
                        "--accumulate-steps",
                        "3"};
  command_line.cli.parse(static_cast<int>(std::size(argv)), argv);
  EXPECT_EQ(o.trainer.plateau_metric, "val_accuracy");
  EXPECT_EQ(o.trainer.max_steps, 7);
  EXPECT_EQ(o.trainer.accumulate_steps, 3);
  ASSERT_TRUE(std::holds_alternative<sched::ReduceLROnPlateauConfig>(o.scheduler));
  EXPECT_EQ(std::get<sched::ReduceLROnPlateauConfig>(o.scheduler).mode, sched::PlateauMode::Max);
  for (const char* flag : {"--plateau-metric", "--max-steps", "--accumulate-steps"})
    EXPECT_NE(command_line.cli.help().find(flag), std::string::npos) << flag;

  // A schedule's length derived from the run stops at max_steps, counting optimizer steps:
  // 10 batches of 10, in 4 steps of up to 3 batches per epoch.
  o.scheduler = sched::CosineAnnealingLRConfig{.unit = sched::StepUnit::Iteration};
  o.trainer.batch_size = 10;
  train::complete_schedule(o, 100);
  EXPECT_EQ(std::get<sched::CosineAnnealingLRConfig>(o.scheduler).t_max, 7);
  o.scheduler = sched::CosineAnnealingLRConfig{};
  o.trainer.max_steps = 25;  // 7 epochs of 4 steps
  train::complete_schedule(o, 100);
  EXPECT_EQ(std::get<sched::CosineAnnealingLRConfig>(o.scheduler).t_max, 7);
  o.scheduler = sched::CosineAnnealingLRConfig{.unit = sched::StepUnit::Iteration};
  o.trainer.max_steps = 0;
  o.trainer.epochs = 2;
  train::complete_schedule(o, 100);
  EXPECT_EQ(std::get<sched::CosineAnnealingLRConfig>(o.scheduler).t_max, 8);

  nabla::testing::TempDir dir("nabla_loop_toml");
  const fs::path file = dir / "run.toml";
  std::ofstream(file) << "[trainer]\nplateau_metric = \"train_loss\"\n";
  command_line.cli.apply_config_file(file.string());
  EXPECT_EQ(o.trainer.plateau_metric, "train_loss");
}

// max_steps stops inside an epoch with its metrics so far and a checkpoint; resumed without the
// limit, the run ends as the uninterrupted one, bit for bit.
TEST(TrainerLoop, MaxStepsStopsResumablyInsideAnEpoch) {
  auto data = toy_classes(2);  // 6 batches of 16 per epoch
  nabla::testing::TempDir dir("nabla_max_steps");
  const optim::AdamConfig adam{.lr = 1e-2};
  const sched::CosineAnnealingLRConfig cosine{.t_max = 18, .unit = sched::StepUnit::Iteration};
  train::TrainerConfig config = quiet({.epochs = 3, .batch_size = 16, .seed = 5});
  auto straight_model = mlp();
  train::Trainer straight(straight_model, adam, cosine, config);
  const train::History full = straight.fit(*data, data.get());
  ASSERT_EQ(full.epochs.size(), 3u);
  EXPECT_FALSE(full.reached_max_steps);

  config.max_steps = 8;  // epoch 2, batch 2
  config.checkpoint_dir = (dir / "limited").string();
  config.metrics_path = (dir / "metrics.jsonl").string();
  train::Trainer limited(mlp(), adam, cosine, config);
  const train::History part = limited.fit(*data, data.get());
  EXPECT_TRUE(part.reached_max_steps);
  EXPECT_EQ(limited.global_step(), 8);
  ASSERT_EQ(part.epochs.size(), 2u);
  EXPECT_FALSE(part.epochs[0].partial);
  EXPECT_EQ(part.epochs[0].train_loss, full.epochs[0].train_loss);
  const train::EpochMetrics& m = part.epochs[1];
  EXPECT_TRUE(m.partial);
  EXPECT_EQ(m.epoch, 2);
  EXPECT_EQ(m.step, 8);
  EXPECT_TRUE(m.test_loss.has_value());  // the model the run ends with, evaluated
  EXPECT_EQ(part.last_checkpoint, (dir / "limited" / train::checkpoint_filename(8)).string());
  std::ifstream metrics(config.metrics_path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(metrics, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_FALSE(lines[0].contains("partial"));
  EXPECT_EQ(lines[1]["partial"], true);
  EXPECT_EQ(lines[1]["step"], 8);

  // The same limit again has nothing left to do; without it the run finishes exactly.
  config.resume = config.checkpoint_dir;
  EXPECT_TRUE(train::Trainer(mlp(), adam, cosine, config).fit(*data).epochs.empty());
  config.max_steps = 0;
  auto model = mlp(9);
  train::Trainer resumed(model, adam, cosine, config);
  const train::History rest = resumed.fit(*data, data.get());
  EXPECT_EQ(flat_params(*model), flat_params(*straight_model));
  ASSERT_EQ(rest.epochs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(rest.epochs[i].epoch, full.epochs[1 + i].epoch);
    EXPECT_EQ(rest.epochs[i].lr, full.epochs[1 + i].lr);
    EXPECT_EQ(rest.epochs[i].train_loss, full.epochs[1 + i].train_loss);
    EXPECT_EQ(rest.epochs[i].test_loss, full.epochs[1 + i].test_loss);
    EXPECT_FALSE(rest.epochs[i].partial);
  }
}

// A limit at an epoch's end ends that epoch normally; one beyond the epochs changes nothing.
TEST(TrainerLoop, MaxStepsAtAnEpochEndAndBeyondTheRun) {
  auto data = toy_classes(2);
  for (const int64_t limit : {12, 100}) {
    SCOPED_TRACE(limit);
    train::TrainerConfig config = quiet({.epochs = 3, .batch_size = 16});
    config.max_steps = limit;
    train::Trainer trainer(mlp(), optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{}, config);
    const train::History h = trainer.fit(*data);
    EXPECT_EQ(h.reached_max_steps, limit == 12);
    ASSERT_EQ(h.epochs.size(), limit == 12 ? 2u : 3u);
    EXPECT_FALSE(h.epochs.back().partial);
    EXPECT_EQ(trainer.global_step(), std::min<int64_t>(limit, 18));
  }
  EXPECT_THROW(train::validate({.max_steps = -1}), Error);
}

// 4 accumulated batches of 8 step as one batch of 32: the same gradients (those of the mean
// loss over the 32 examples) up to float rounding, the same number of steps and the same
// schedule. With 100 examples the last step takes one batch of 4, as the batch of 32 does.
TEST(TrainerLoop, AccumulatedBatchesStepAsOneLargeBatch) {
  auto data = toy_classes(8, 100);
  const optim::SGDConfig sgd{.lr = 0.2, .momentum = 0.9, .weight_decay = 1e-3};
  const sched::StepLRConfig step_lr{
      .step_size = 3, .gamma = 0.5, .unit = sched::StepUnit::Iteration};
  auto large_model = mlp(), accumulated_model = mlp();
  train::Trainer large(large_model, sgd, step_lr, quiet({.epochs = 3, .batch_size = 32}));
  train::TrainerConfig config = quiet({.epochs = 3, .batch_size = 8});
  config.accumulate_steps = 4;
  train::Trainer accumulated(accumulated_model, sgd, step_lr, config);
  std::vector<train::StepInfo> steps;
  accumulated.on_step_end = [&](const train::StepInfo& s) { steps.push_back(s); };
  const train::History a = large.fit(*data), b = accumulated.fit(*data);
  EXPECT_EQ(accumulated.global_step(), 12);
  EXPECT_EQ(large.global_step(), 12);
  ASSERT_EQ(steps.size(), 12u);
  EXPECT_EQ(steps[0].batch, 3);
  EXPECT_EQ(steps[3].batch, 12);  // the epoch's short last step: one batch
  EXPECT_EQ(steps[3].step, 4);
  const std::vector<float> pa = flat_params(*large_model), pb = flat_params(*accumulated_model);
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_NEAR(pa[i], pb[i], 2e-5f) << i;
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (size_t e = 0; e < a.epochs.size(); ++e) {
    EXPECT_EQ(a.epochs[e].step, b.epochs[e].step);
    EXPECT_DOUBLE_EQ(a.epochs[e].lr, b.epochs[e].lr);
    EXPECT_NEAR(a.epochs[e].train_loss, b.epochs[e].train_loss, 1e-5);
    EXPECT_EQ(a.epochs[e].train_accuracy, b.epochs[e].train_accuracy);
  }
  EXPECT_THROW(train::validate({.accumulate_steps = 0}), Error);
}

// Checkpoints fall between optimizer steps (checkpoint_every counts them), so a run resumed
// from one, mid-epoch or at an epoch's end, ends bit for bit as the uninterrupted run.
TEST(TrainerLoop, AccumulationResumesExactly) {
  auto data = toy_classes(2);  // 12 batches of 8: 4 steps of 3 batches per epoch
  nabla::testing::TempDir dir("nabla_accumulate");
  const optim::AdamConfig adam{.lr = 1e-2};
  const sched::CosineAnnealingLRConfig cosine{.t_max = 12, .unit = sched::StepUnit::Iteration};
  train::TrainerConfig config = quiet({.epochs = 3,
                                       .batch_size = 8,
                                       .seed = 3,
                                       .checkpoint_dir = (dir / "straight").string(),
                                       .checkpoint_every = 3,
                                       .keep_last = 0});
  config.accumulate_steps = 3;
  auto straight_model = mlp();
  train::Trainer straight(straight_model, adam, cosine, config);
  straight.on_step_end = [&](const train::StepInfo& s) {
    if (s.step == 5) straight.save_checkpoint((dir / "hook.safetensors").string());
  };
  const train::History full = straight.fit(*data, data.get());
  EXPECT_EQ(straight.global_step(), 12);
  const std::vector<float> expected = flat_params(*straight_model);
  for (const std::string& from : {(dir / "straight" / train::checkpoint_filename(3)).string(),
                                  (dir / "straight" / train::checkpoint_filename(4)).string(),
                                  (dir / "hook.safetensors").string()}) {
    SCOPED_TRACE(from);
    train::TrainerConfig resumed_config = config;
    resumed_config.checkpoint_dir = (dir / "resumed").string();
    resumed_config.overwrite = true;
    resumed_config.resume = from;
    auto model = mlp(9);
    train::Trainer resumed(model, adam, cosine, resumed_config);
    const train::History rest = resumed.fit(*data, data.get());
    EXPECT_EQ(flat_params(*model), expected);
    ASSERT_FALSE(rest.epochs.empty());
    EXPECT_EQ(rest.epochs.back().train_loss, full.epochs.back().train_loss);
    EXPECT_EQ(rest.epochs.back().lr, full.epochs.back().lr);
  }
}

namespace {
// The share of examples whose target is among the two highest outputs, computed on the host.
double top2(const Tensor& output, const Tensor& target) {
  const std::vector<float> out = output.to(Device::cpu()).to_vector<float>();
  const std::vector<float> y = target.to(Device::cpu()).to(DType::Float32).to_vector<float>();
  const int64_t n = output.size(0), c = output.size(1);
  int64_t hits = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = out.data() + i * c;
    const float mine = row[static_cast<int64_t>(y[i])];
    int64_t above = 0;
    for (int64_t j = 0; j < c; ++j) above += row[j] > mine;
    hits += above < 2;
  }
  return static_cast<double>(hits) / static_cast<double>(n);
}
}  // namespace

// A metric added to the trainer is averaged per example over the evaluation's batches (of
// unequal sizes here), reported per epoch and in the metrics file, and can drive the plateau
// schedule.
TEST(TrainerLoop, AddedMetricsAreAveragedPerExampleAndReported) {
  auto train_set = toy_classes(10, 64), val_set = toy_classes(11, 70);
  nabla::testing::TempDir dir("nabla_metrics");
  train::TrainerConfig config = quiet({.epochs = 3, .batch_size = 16, .eval_batch_size = 32});
  config.metrics_path = (dir / "metrics.jsonl").string();
  config.plateau_metric = "val_top2";
  auto model = mlp();
  train::Trainer trainer(
      model, optim::SGDConfig{.lr = 0.1},
      sched::ReduceLROnPlateauConfig{.mode = sched::PlateauMode::Max, .patience = 0}, config);
  trainer.add_metric("top2", top2);
  trainer.add_metric("batch_size", [](const Tensor& out, const Tensor&) {
    return static_cast<double>(out.size(0));  // 32, 32, 6: per example 32 * 64 / 70 + 6 * 6 / 70
  });
  const train::History h = trainer.fit(*train_set, val_set.get());
  ASSERT_EQ(h.epochs.size(), 3u);
  const train::EpochMetrics& last = h.epochs.back();
  ASSERT_EQ(last.test_metrics.size(), 2u);
  EXPECT_NEAR(last.test_metrics.at("batch_size"), (32.0 * 64 + 6.0 * 6) / 70, 1e-12);

  // The same over the whole set at once.
  const train::EvalResult r = trainer.evaluate(*val_set);
  EXPECT_EQ(r.metrics.at("top2"), last.test_metrics.at("top2"));
  NoGradGuard no_grad;
  model->eval();
  const Tensor all = (*model)(val_set->inputs());
  EXPECT_NEAR(r.metrics.at("top2"), top2(all, val_set->targets()), 1e-12);
  EXPECT_GE(r.metrics.at("top2"), r.accuracy);

  std::ifstream metrics(config.metrics_path);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(metrics, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines.back()["test_top2"].get<double>(), last.test_metrics.at("top2"));

  // The plateau followed top-2 accuracy: with patience 0 each epoch without a rise cut the rate.
  double lr = 0.1, best = -INFINITY;
  for (const train::EpochMetrics& m : h.epochs) {
    EXPECT_DOUBLE_EQ(m.lr, lr) << m.epoch;
    const double v = m.test_metrics.at("top2");
    if (v > best * (1.0 + 1e-4))
      best = v;
    else
      lr *= 0.1;
  }

  EXPECT_THROW(trainer.add_metric("top2", top2), Error);
  EXPECT_THROW(trainer.add_metric("loss", top2), Error);
  EXPECT_THROW(trainer.add_metric("top 5", top2), Error);
  config.plateau_metric = "val_top5";
  config.metrics_path.clear();
  train::Trainer unknown(mlp(), optim::SGDConfig{.lr = 0.1}, sched::ReduceLROnPlateauConfig{},
                         config);
  EXPECT_THROW(unknown.fit(*train_set, val_set.get()), Error);
}

// With fp16's loss scaling the accumulated step is still that of the large batch, up to the
// rounding of fp16 products (which differs between a batch of 8 and one of 32).
TEST(TrainerLoop, AccumulationWithFp16LossScaling) {
  auto data = toy_classes(8, 96);
  const optim::SGDConfig sgd{.lr = 0.2, .momentum = 0.9};
  auto large_model = mlp(), accumulated_model = mlp();
  train::TrainerConfig config = quiet({.epochs = 2, .batch_size = 32});
  config.precision = Precision::fp16;
  config.loss_scale = 1024.0;
  train::Trainer large(large_model, sgd, sched::NoSchedulerConfig{}, config);
  config.batch_size = 8;
  config.accumulate_steps = 4;
  train::Trainer accumulated(accumulated_model, sgd, sched::NoSchedulerConfig{}, config);
  const train::History a = large.fit(*data), b = accumulated.fit(*data);
  EXPECT_EQ(accumulated.global_step(), 6);
  EXPECT_EQ(b.epochs.back().skipped_steps, 0);
  const std::vector<float> pa = flat_params(*large_model), pb = flat_params(*accumulated_model);
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_NEAR(pa[i], pb[i], 5e-3f) << i;
  EXPECT_NEAR(a.epochs.back().train_loss, b.epochs.back().train_loss, 5e-3);
}
