// Resuming from the command line: the settings a checkpoint recorded replace the program's
// defaults, and the flags and config file change only what they name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "nabla/nabla.h"
#include "support/command_line.h"

using namespace nabla;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("nabla_resume_cli_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::shared_ptr<data::TensorDataset> toy_data() {
  Generator gen(2);
  const Tensor x = Tensor::randn({64, 8}, &gen);
  return std::make_shared<data::TensorDataset>(x, argmax(x.narrow(1, 0, 4), 1));
}

std::shared_ptr<nn::Sequential> toy_model() {
  Generator gen(3);
  return std::make_shared<nn::Sequential>(nn::Linear(8, 4, true, &gen));
}

// A run of two epochs that the options below resume: Adam and a step schedule, away from their
// defaults and the program's.
std::string write_checkpoint(const fs::path& dir) {
  train::TrainerConfig config{.epochs = 2,
                              .batch_size = 16,
                              .accumulate_steps = 2,
                              .seed = 7,
                              .clip_grad_norm = 1.5,
                              .checkpoint_dir = dir.string(),
                              .progress = train::ProgressMode::Off,
                              .handle_signals = false};
  train::Trainer trainer(toy_model(), optim::AdamConfig{.lr = 0.01, .betas = {0.8, 0.99}},
                         sched::StepLRConfig{.step_size = 2, .gamma = 0.5}, config);
  trainer.fit(*toy_data());
  return dir.string();
}

// The program's defaults (as mnist_mlp's), then the flags.
train::RunOptions options(std::vector<const char*> flags) {
  nabla::testing::TrainingCommandLine command_line;
  train::RunOptions& o = command_line.options;
  o.trainer.epochs = 10;
  o.trainer.progress = train::ProgressMode::Off;
  o.trainer.handle_signals = false;
  command_line.parse(flags);
  return o;
}

}  // namespace

TEST(ResumeFromTheCommandLine, TakesTheCheckpointsSettingsNotTheDefaults) {
  const std::string dir = write_checkpoint(fresh_dir("defaults"));
  const train::RunOptions o = options({"--resume", dir.c_str()});
  const auto* adam = std::get_if<optim::AdamConfig>(&o.optimizer);
  ASSERT_NE(adam, nullptr);
  EXPECT_EQ(adam->lr, 0.01);
  EXPECT_EQ(adam->betas, (optim::Betas{0.8, 0.99}));
  const auto* step = std::get_if<sched::StepLRConfig>(&o.scheduler);
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->step_size, 2);
  EXPECT_EQ(step->gamma, 0.5);
  EXPECT_EQ(o.trainer.epochs, 2);
  EXPECT_EQ(o.trainer.batch_size, 16);
  EXPECT_EQ(o.trainer.seed, 7u);
  EXPECT_EQ(o.trainer.clip_grad_norm, 1.5);
  // Every field TrainerConfig's table keeps on resume, and no other.
  EXPECT_EQ(o.trainer.accumulate_steps, 2);
  EXPECT_EQ(o.trainer.plateau_metric, "val_loss");
  EXPECT_EQ(o.trainer.eval_every, 1);
  const train::RunOptions named = options({"--resume", dir.c_str(), "--accumulate-steps", "1"});
  EXPECT_EQ(named.trainer.accumulate_steps, 1);
  // --resume alone resumes the checkpoint folder.
  const train::RunOptions alone = options({"--checkpoint-dir", dir.c_str(), "--resume"});
  EXPECT_EQ(alone.trainer.resume, dir);
  EXPECT_TRUE(std::holds_alternative<optim::AdamConfig>(alone.optimizer));
  EXPECT_EQ(alone.trainer.epochs, 2);
}

// Flags and a config file name new values; the rest stays the checkpoint's, and the Trainer
// reports exactly what they named.
TEST(ResumeFromTheCommandLine, FlagsAndTheConfigFileChangeWhatTheyName) {
  const fs::path root = fresh_dir("named");
  const std::string dir = write_checkpoint(root / "run");
  const fs::path file = root / "more.toml";
  std::ofstream(file) << "[optimizer]\ntype = \"adam\"\neps = 1e-6\n[trainer]\nepochs = 3\n";
  const std::string file_name = file.string();
  train::RunOptions o = options(
      {"--config", file_name.c_str(), "--resume", dir.c_str(), "--lr", "0.005", "--gamma", "0.25"});
  const auto& adam = std::get<optim::AdamConfig>(o.optimizer);
  EXPECT_EQ(adam.lr, 0.005);
  EXPECT_EQ(adam.eps, 1e-6);
  EXPECT_EQ(adam.betas, (optim::Betas{0.8, 0.99}));
  const auto& step = std::get<sched::StepLRConfig>(o.scheduler);
  EXPECT_EQ(step.gamma, 0.25);
  EXPECT_EQ(step.step_size, 2);
  EXPECT_EQ(o.trainer.epochs, 3);
  EXPECT_EQ(o.trainer.batch_size, 16);

  std::vector<std::string> lines;
  LogSink previous =
      set_log_sink([&](LogLevel, const std::string& text) { lines.push_back(text); });
  o.trainer.checkpoint_dir = (root / "resumed").string();
  train::Trainer trainer(toy_model(), o.optimizer, o.scheduler, o.trainer);
  set_log_sink(std::move(previous));
  std::vector<std::string> changes;
  for (const std::string& line : lines)
    if (line.find("changed since the checkpoint") != std::string::npos) changes.push_back(line);
  EXPECT_EQ(changes, (std::vector<std::string>{
                         "  changed since the checkpoint: epochs: 2 -> 3",
                         "  changed since the checkpoint: optimizer.eps: 1e-08 -> 1e-06",
                         "  changed since the checkpoint: optimizer.lr: 0.01 -> 0.005",
                         "  changed since the checkpoint: scheduler.gamma: 0.5 -> 0.25",
                     }));
  // The new lr rescales the schedule: the checkpoint is at epoch 2 of a step size of 2, where the
  // schedule as it now is (gamma 0.25) gives the new base one cut.
  EXPECT_DOUBLE_EQ(trainer.optimizer().lr(), 0.005 * 0.25);
}

// Naming another optimizer than the checkpoint's is an error, as in code.
TEST(ResumeFromTheCommandLine, AnotherOptimizerIsAnError) {
  const std::string dir = write_checkpoint(fresh_dir("other"));
  const train::RunOptions o = options({"--resume", dir.c_str(), "--optimizer", "sgd"});
  EXPECT_TRUE(std::holds_alternative<optim::SGDConfig>(o.optimizer));
  try {
    train::Trainer(toy_model(), o.optimizer, o.scheduler, o.trainer);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the Adam optimizer; this run uses SGD"),
              std::string::npos)
        << e.what();
  }
}

// Every recorded schedule comes back as it was, SequentialLR's schedules and the fields no flag
// sets included (OneCycleLR's epochs, CyclicLR's scale_mode): resuming with nothing named reports
// no change.
TEST(ResumeFromTheCommandLine, EveryRecordedScheduleComesBack) {
  using namespace sched;
  const std::vector<SchedulerConfig> schedules = {
      SequentialLRConfig{.schedulers = {LinearLRConfig{.start_factor = 0.5, .total_iters = 2},
                                        CosineAnnealingLRConfig{.t_max = 5, .eta_min = 1e-3}},
                         .milestones = {2}},
      OneCycleLRConfig{.max_lr = 0.2, .epochs = 3, .steps_per_epoch = 4, .three_phase = true},
      CyclicLRConfig{.base_lr = 0.01,
                     .max_lr = 0.1,
                     .step_size_up = 3,
                     .step_size_down = 2,
                     .mode = CyclicMode::ExpRange,
                     .gamma = 0.9,
                     .scale_mode = CyclicScaleMode::Iterations},
      ReduceLROnPlateauConfig{.mode = PlateauMode::Max, .threshold_mode = ThresholdMode::Abs},
      CosineAnnealingWarmRestartsConfig{.t_0 = 2, .t_mult = 3, .unit = StepUnit::Iteration},
  };
  for (size_t i = 0; i < schedules.size(); ++i) {
    SCOPED_TRACE(i);
    const fs::path dir = fresh_dir("schedule_" + std::to_string(i));
    train::Trainer first(toy_model(), optim::SGDConfig{.lr = 0.1, .momentum = 0.9}, schedules[i],
                         {.epochs = 1,
                          .batch_size = 16,
                          .checkpoint_dir = dir.string(),
                          .progress = train::ProgressMode::Off,
                          .handle_signals = false});
    first.fit(*toy_data());
    train::RunOptions o = options({"--resume", dir.string().c_str()});
    EXPECT_EQ(o.scheduler.index(), schedules[i].index());
    std::vector<std::string> lines;
    LogSink previous =
        set_log_sink([&](LogLevel, const std::string& text) { lines.push_back(text); });
    o.trainer.checkpoint_dir = (dir / "resumed").string();
    train::Trainer resumed(toy_model(), o.optimizer, o.scheduler, o.trainer);
    set_log_sink(std::move(previous));
    for (const std::string& line : lines)
      EXPECT_EQ(line.find("changed since the checkpoint"), std::string::npos) << line;
  }
}
