// Options from the command line and TOML files: schedules named on the command line alone (what
// PyTorch requires is derived from the run, printed, and never replaces a value given), and the
// optimizers' own fields.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "nabla/nabla.h"
#include "sched/fake_optimizer.h"
#include "support/command_line.h"

using namespace nabla;

namespace {

// mnist_mlp's flags, then complete_schedule over a training set of 1000 (batch 100: 10 batches).
train::RunOptions run(std::vector<const char*> flags, std::vector<std::string>* derived = nullptr) {
  nabla::testing::TrainingCommandLine command_line;
  train::RunOptions& o = command_line.options;
  o.trainer.epochs = 6;
  o.trainer.batch_size = 100;
  command_line.parse(flags);
  const std::vector<std::string> lines = train::complete_schedule(o, 1000);
  if (derived != nullptr) *derived = lines;
  return o;
}

// The schedule builds, and its first rate is finite (momentum: the cyclic ones cycle it).
void expect_usable(const train::RunOptions& o) {
  nabla::testing::FakeOptimizer optimizer({0.1}, 0.9);
  const auto scheduler = sched::make_scheduler(optimizer, o.scheduler);
  scheduler->step(1.0);  // a metric, for the plateau schedule
  EXPECT_TRUE(std::isfinite(optimizer.lr()));
}

}  // namespace

TEST(ScheduleDefaults, EveryScheduleRunsFromItsNameAlone) {
  for (const char* name :
       {"exponential", "exponential-decay", "step", "multistep", "inverse", "cyclic", "cosine",
        "cosine-warm-restarts", "onecycle", "plateau", "linear-warmup"}) {
    SCOPED_TRACE(name);
    expect_usable(run({"--scheduler", name, "--lr", "0.1"}));
  }
}

TEST(ScheduleDefaults, DerivedFromTheRunAndPrinted) {
  std::vector<std::string> derived;
  auto o = run({"--scheduler", "cosine"}, &derived);
  EXPECT_EQ(std::get<sched::CosineAnnealingLRConfig>(o.scheduler).t_max, 6);
  ASSERT_EQ(derived.size(), 1u);
  EXPECT_EQ(derived[0], "scheduler cosine: t_max = 6 (the run's 6 epochs)");

  o = run({"--scheduler", "cosine", "--unit", "iteration"});
  EXPECT_EQ(std::get<sched::CosineAnnealingLRConfig>(o.scheduler).t_max, 60);

  o = run({"--scheduler", "onecycle", "--lr", "0.3"}, &derived);
  const auto& one_cycle = std::get<sched::OneCycleLRConfig>(o.scheduler);
  EXPECT_EQ(one_cycle.max_lr.values, std::vector<double>{0.3});
  EXPECT_EQ(one_cycle.total_steps, 60);
  EXPECT_EQ(derived.size(), 2u);

  o = run({"--scheduler", "cyclic", "--lr", "0.4"});
  const auto& cyclic = std::get<sched::CyclicLRConfig>(o.scheduler);
  EXPECT_EQ(cyclic.max_lr.values, std::vector<double>{0.4});
  EXPECT_EQ(cyclic.base_lr.values, std::vector<double>{0.1});

  o = run({"--scheduler", "exponential"});
  EXPECT_NEAR(std::pow(std::get<sched::ExponentialLRConfig>(o.scheduler).gamma, 6), 0.01, 1e-12);
  o = run({"--scheduler", "exponential-decay"});
  EXPECT_NEAR(std::exp(-6 * std::get<sched::ExponentialDecayConfig>(o.scheduler).k), 0.01, 1e-12);
  o = run({"--scheduler", "inverse"});
  EXPECT_NEAR(1.0 / (1.0 + 6 * std::get<sched::InverseDecayConfig>(o.scheduler).k), 0.1, 1e-12);
  o = run({"--scheduler", "step"});
  EXPECT_EQ(std::get<sched::StepLRConfig>(o.scheduler).step_size, 2);
  o = run({"--scheduler", "multistep"});
  EXPECT_EQ(std::get<sched::MultiStepLRConfig>(o.scheduler).milestones,
            (std::vector<int64_t>{3, 4}));
  o = run({"--scheduler", "cosine-warm-restarts"});
  EXPECT_EQ(std::get<sched::CosineAnnealingWarmRestartsConfig>(o.scheduler).t_0, 2);
}

TEST(ScheduleDefaults, AValueGivenIsKept) {
  std::vector<std::string> derived;
  auto o = run({"--scheduler", "cosine", "--t-max", "3"}, &derived);
  EXPECT_EQ(std::get<sched::CosineAnnealingLRConfig>(o.scheduler).t_max, 3);
  EXPECT_TRUE(derived.empty());
  o = run({"--scheduler", "onecycle", "--max-lr", "0.5", "--total-steps", "7"}, &derived);
  EXPECT_EQ(std::get<sched::OneCycleLRConfig>(o.scheduler).max_lr.values, std::vector<double>{0.5});
  EXPECT_EQ(std::get<sched::OneCycleLRConfig>(o.scheduler).total_steps, 7);
  EXPECT_TRUE(derived.empty());
  o = run({"--scheduler", "step", "--step-size", "5"});
  EXPECT_EQ(std::get<sched::StepLRConfig>(o.scheduler).step_size, 5);
}

TEST(ScheduleDefaults, AConfigStructInCodeKeepsPyTorchsRequiredArguments) {
  nabla::testing::FakeOptimizer optimizer({0.1});
  EXPECT_THROW(sched::make_scheduler(optimizer, sched::CosineAnnealingLRConfig{}), Error);
  EXPECT_THROW(sched::make_scheduler(optimizer, sched::OneCycleLRConfig{}), Error);
  EXPECT_THROW(sched::make_scheduler(optimizer, sched::ExponentialLRConfig{}), Error);
}

namespace {

// A TOML file's [optimizer] section, applied to default options.
train::RunOptions from_toml(const std::string& text) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("nabla_options_test_" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << text;
  nabla::testing::TrainingCommandLine command_line;
  command_line.cli.apply_config_file(path.string());
  std::filesystem::remove(path);
  return command_line.options;
}

TEST(OptimizerOptions, RpropFromFlagsAndToml) {
  const train::RunOptions flags = run({"--optimizer", "rprop", "--lr", "0.02", "--etas", "0.4,1.3",
                                       "--step-sizes", "1e-5,2", "--weight-decay", "0.01"});
  const auto& a = std::get<optim::RpropConfig>(flags.optimizer);
  EXPECT_EQ(a.lr, 0.02);
  EXPECT_EQ(a.etas, (std::array<double, 2>{0.4, 1.3}));
  EXPECT_EQ(a.step_sizes, (std::array<double, 2>{1e-5, 2.0}));
  EXPECT_EQ(a.weight_decay, 0.01);
  const train::RunOptions toml = from_toml(
      "[optimizer]\ntype = \"rprop\"\nlr = 0.02\netas = [0.4, 1.3]\nstep_sizes = [1e-5, 2]\n");
  const auto& b = std::get<optim::RpropConfig>(toml.optimizer);
  EXPECT_EQ(b.etas, a.etas);
  EXPECT_EQ(b.step_sizes, a.step_sizes);
  EXPECT_EQ(b.lr, 0.02);
  // The defaults are PyTorch's.
  const auto d = std::get<optim::RpropConfig>(run({"--optimizer", "rprop"}).optimizer);
  EXPECT_EQ(d.lr, 0.01);
  EXPECT_EQ(d.etas, (std::array<double, 2>{0.5, 1.2}));
  EXPECT_EQ(d.step_sizes, (std::array<double, 2>{1e-6, 50.0}));
  EXPECT_THROW(run({"--optimizer", "rprop", "--etas", "0.5"}), Error);
  EXPECT_THROW(run({"--optimizer", "adam", "--etas", "0.5,1.2"}), Error);
}

TEST(OptimizerOptions, AdamBiasCorrectionFromFlagsAndToml) {
  EXPECT_TRUE(std::get<optim::AdamConfig>(run({"--optimizer", "adam"}).optimizer).bias_correction);
  EXPECT_FALSE(std::get<optim::AdamConfig>(
                   run({"--optimizer", "adam", "--bias-correction", "off"}).optimizer)
                   .bias_correction);
  EXPECT_FALSE(std::get<optim::AdamWConfig>(
                   run({"--optimizer", "adamw", "--bias-correction=false"}).optimizer)
                   .bias_correction);
  EXPECT_FALSE(std::get<optim::AdamConfig>(
                   from_toml("[optimizer]\ntype = \"adam\"\nbias_correction = false\n").optimizer)
                   .bias_correction);
  EXPECT_THROW(run({"--optimizer", "sgd", "--bias-correction", "off"}), Error);
}

TEST(OptimizerOptions, HelpListsRprop) {
  const std::string text = nabla::testing::TrainingCommandLine().cli.help();
  EXPECT_NE(text.find("swats, rprop"), std::string::npos) << text;
  EXPECT_NE(text.find("--etas X,X"), std::string::npos);
  EXPECT_NE(text.find("--step-sizes X,X"), std::string::npos);
  EXPECT_NE(text.find("--bias-correction [on|off]"), std::string::npos);
}

}  // namespace
