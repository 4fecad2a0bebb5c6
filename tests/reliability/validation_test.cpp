// Every config struct rejects bad values with an error naming the field: the optimizer configs
// (optim::validate and make_optimizer), the schedule configs (make_scheduler, for the non-finite
// values the sched tests leave out), TrainerConfig (the Trainer constructor) and the run options
// (TOML file and command line). One table per struct; each row is a value that must be refused.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "nabla/nabla.h"
#include "support/command_line.h"
#include "support/gradcheck.h"
#include "support/idx_writer.h"

using namespace nabla;
using nabla::testing::expect_error;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<Tensor> two_params() {
  return {Tensor::zeros({3}).requires_grad(true), Tensor::zeros({2, 2}).requires_grad(true)};
}

struct OptimizerCase {
  optim::OptimizerConfig config;
  std::string message;
};

TEST(Validation, OptimizerConfigs) {
  using namespace optim;
  const std::vector<OptimizerCase> cases = {
      {SGDConfig{.lr = -0.1}, "SGDConfig: invalid lr"},
      {SGDConfig{.lr = kNaN}, "SGDConfig: invalid lr"},
      {SGDConfig{.lr = kInf}, "SGDConfig: invalid lr"},
      {SGDConfig{.momentum = -0.5}, "SGDConfig: invalid momentum"},
      {SGDConfig{.momentum = kNaN}, "SGDConfig: invalid momentum"},
      {SGDConfig{.dampening = 1.5}, "SGDConfig: invalid dampening"},
      {SGDConfig{.dampening = kNaN}, "SGDConfig: invalid dampening"},
      {SGDConfig{.weight_decay = -1}, "SGDConfig: invalid weight_decay"},
      {SGDConfig{.weight_decay = kInf}, "SGDConfig: invalid weight_decay"},
      {SGDConfig{.nesterov = true}, "SGDConfig: nesterov needs momentum > 0"},
      {SGDConfig{.momentum = 0.9, .dampening = 0.1, .nesterov = true}, "nesterov needs"},
      {AdaptiveGainConfig{.lr = kNaN}, "AdaptiveGainConfig: invalid lr"},
      {AdaptiveGainConfig{.beta = 1.0}, "AdaptiveGainConfig: invalid beta"},
      {AdaptiveGainConfig{.beta = kNaN}, "AdaptiveGainConfig: invalid beta"},
      {AdaptiveGainConfig{.weight_decay = -1}, "AdaptiveGainConfig: invalid weight_decay"},
      {AdaptiveGainConfig{.min_gain = -0.1}, "AdaptiveGainConfig: invalid min_gain"},
      {AdaptiveGainConfig{.min_gain = 2.0}, "AdaptiveGainConfig: gains start at 1"},
      {AdaptiveGainConfig{.max_gain = 0.5}, "AdaptiveGainConfig: gains start at 1"},
      {AdaptiveGainConfig{.max_gain = kNaN}, "AdaptiveGainConfig: invalid max_gain"},
      {RMSpropConfig{.lr = -1}, "RMSpropConfig: invalid lr"},
      {RMSpropConfig{.alpha = 1.0}, "RMSpropConfig: invalid alpha"},
      {RMSpropConfig{.alpha = kNaN}, "RMSpropConfig: invalid alpha"},
      {RMSpropConfig{.eps = 0.0}, "RMSpropConfig: invalid eps"},
      {RMSpropConfig{.eps = kInf}, "RMSpropConfig: invalid eps"},
      {RMSpropConfig{.weight_decay = kNaN}, "RMSpropConfig: invalid weight_decay"},
      {RMSpropConfig{.momentum = -0.9}, "RMSpropConfig: invalid momentum"},
      {AdamConfig{.lr = kInf}, "AdamConfig: invalid lr"},
      {AdamConfig{.betas = {1.0, 0.999}}, "AdamConfig: invalid betas[0]"},
      {AdamConfig{.betas = {0.9, -0.1}}, "AdamConfig: invalid betas[1]"},
      {AdamConfig{.betas = {kNaN, 0.999}}, "AdamConfig: invalid betas[0]"},
      {AdamConfig{.eps = -1e-8}, "AdamConfig: invalid eps"},
      {AdamConfig{.eps = kNaN}, "AdamConfig: invalid eps"},
      {AdamConfig{.weight_decay = -0.1}, "AdamConfig: invalid weight_decay"},
      {AdamWConfig{.lr = -1e-3}, "AdamWConfig: invalid lr"},
      {AdamWConfig{.betas = {0.9, 1.0}}, "AdamWConfig: invalid betas[1]"},
      {AdamWConfig{.weight_decay = kNaN}, "AdamWConfig: invalid weight_decay"},
      {AdagradConfig{.lr = kNaN}, "AdagradConfig: invalid lr"},
      {AdagradConfig{.lr_decay = -1}, "AdagradConfig: invalid lr_decay"},
      {AdagradConfig{.weight_decay = -1}, "AdagradConfig: invalid weight_decay"},
      {AdagradConfig{.initial_accumulator_value = -1}, "invalid initial_accumulator_value"},
      {AdagradConfig{.eps = 0.0}, "AdagradConfig: invalid eps"},
      {AdadeltaConfig{.lr = -1}, "AdadeltaConfig: invalid lr"},
      {AdadeltaConfig{.rho = 1.5}, "AdadeltaConfig: invalid rho"},
      {AdadeltaConfig{.rho = kNaN}, "AdadeltaConfig: invalid rho"},
      {AdadeltaConfig{.eps = 0.0}, "AdadeltaConfig: invalid eps"},
      {AdadeltaConfig{.weight_decay = kInf}, "AdadeltaConfig: invalid weight_decay"},
      {AdamaxConfig{.lr = kInf}, "AdamaxConfig: invalid lr"},
      {AdamaxConfig{.betas = {0.9, 2.0}}, "AdamaxConfig: invalid betas[1]"},
      {AdamaxConfig{.eps = 0.0}, "AdamaxConfig: invalid eps"},
      {NAdamConfig{.betas = {-0.1, 0.999}}, "NAdamConfig: invalid betas[0]"},
      {NAdamConfig{.momentum_decay = -1}, "NAdamConfig: invalid momentum_decay"},
      {NAdamConfig{.momentum_decay = kNaN}, "NAdamConfig: invalid momentum_decay"},
      {SWATSConfig{.eps = kNaN}, "SWATSConfig: invalid eps"},
      {SWATSConfig{.eps_switch = 0.0}, "SWATSConfig: invalid eps_switch"},
      {SWATSConfig{.weight_decay = -1}, "SWATSConfig: invalid weight_decay"},
      {RpropConfig{.lr = kNaN}, "RpropConfig: invalid lr"},
      {RpropConfig{.etas = {kNaN, 1.2}}, "RpropConfig: invalid etas[0]"},
      {RpropConfig{.etas = {0.5, kInf}}, "RpropConfig: invalid etas[1]"},
      {RpropConfig{.step_sizes = {kNaN, 50}}, "RpropConfig: invalid step_sizes[0]"},
      {RpropConfig{.step_sizes = {1e-6, kNaN}}, "RpropConfig: invalid step_sizes[1]"},
      {RpropConfig{.weight_decay = kInf}, "RpropConfig: invalid weight_decay"},
  };
  for (const OptimizerCase& c : cases) {
    SCOPED_TRACE(c.message);
    expect_error([&] { optim::validate(c.config); }, c.message);
    expect_error([&] { optim::make_optimizer(two_params(), c.config); }, c.message);
  }
  // The defaults of every optimizer are valid.
  for (const char* name : {"sgd", "adaptivegain", "rmsprop", "adam", "adamw", "adagrad", "adadelta",
                           "adamax", "nadam", "swats", "rprop"})
    EXPECT_NO_THROW(optim::validate(optim::parse_optimizer(name))) << name;
}

struct SchedulerCase {
  sched::SchedulerConfig config;
  std::string message;
};

// Non-finite values, which a TOML file or a flag can produce ("nan", "inf", 1e999).
TEST(Validation, SchedulerConfigsRejectNonFiniteValues) {
  using namespace sched;
  const std::vector<SchedulerCase> cases = {
      {ExponentialLRConfig{.gamma = kNaN}, "ExponentialLR: gamma is required"},
      {ExponentialLRConfig{.gamma = kInf}, "ExponentialLR: invalid gamma"},
      {ExponentialDecayConfig{.k = kInf}, "ExponentialDecay: invalid k"},
      {ExponentialDecayConfig{.k = kNaN}, "ExponentialDecay: k is required"},
      {StepLRConfig{.step_size = 2, .gamma = kNaN}, "StepLR: invalid gamma"},
      {StepLRConfig{.step_size = 2, .gamma = kInf}, "StepLR: invalid gamma"},
      {MultiStepLRConfig{.milestones = {2}, .gamma = kNaN}, "MultiStepLR: invalid gamma"},
      {InverseDecayConfig{.k = kNaN}, "InverseDecay: k is required"},
      {CyclicLRConfig{.base_lr = kNaN, .max_lr = 0.1, .cycle_momentum = false},
       "CyclicLR: invalid base_lr"},
      {CyclicLRConfig{.base_lr = 0.01, .max_lr = kInf, .cycle_momentum = false},
       "CyclicLR: invalid max_lr"},
      {CyclicLRConfig{.base_lr = 0.01, .max_lr = 0.1, .gamma = kNaN, .cycle_momentum = false},
       "CyclicLR: invalid gamma"},
      {CosineAnnealingLRConfig{.t_max = 5, .eta_min = kNaN}, "CosineAnnealingLR: invalid eta_min"},
      {CosineAnnealingWarmRestartsConfig{.t_0 = 5, .eta_min = kInf},
       "CosineAnnealingWarmRestarts: invalid eta_min"},
      {LinearLRConfig{.start_factor = kNaN}, "LinearLR: invalid start_factor"},
      {LinearLRConfig{.end_factor = kNaN}, "LinearLR: invalid end_factor"},
      {OneCycleLRConfig{.max_lr = kInf, .total_steps = 10, .cycle_momentum = false},
       "OneCycleLR: invalid max_lr"},
      {OneCycleLRConfig{
           .max_lr = 0.1, .total_steps = 10, .pct_start = kNaN, .cycle_momentum = false},
       "OneCycleLR: invalid pct_start"},
      {OneCycleLRConfig{
           .max_lr = 0.1, .total_steps = 10, .cycle_momentum = false, .div_factor = kInf},
       "OneCycleLR: invalid div_factor"},
      {OneCycleLRConfig{
           .max_lr = 0.1, .total_steps = 10, .cycle_momentum = false, .final_div_factor = kNaN},
       "OneCycleLR: invalid final_div_factor"},
      {ReduceLROnPlateauConfig{.factor = kNaN}, "ReduceLROnPlateau: invalid factor"},
      {ReduceLROnPlateauConfig{.threshold = kNaN}, "ReduceLROnPlateau: invalid threshold"},
      {ReduceLROnPlateauConfig{.min_lr = kNaN}, "ReduceLROnPlateau: invalid min_lr"},
      {ReduceLROnPlateauConfig{.eps = kNaN}, "ReduceLROnPlateau: invalid eps"},
  };
  for (const SchedulerCase& c : cases) {
    SCOPED_TRACE(c.message);
    auto optimizer = optim::make_optimizer(two_params(), optim::SGDConfig{.lr = 0.1});
    expect_error([&] { sched::make_scheduler(*optimizer, c.config); }, c.message);
  }
}

struct TrainerCase {
  train::TrainerConfig config;
  std::string message;
};

train::TrainerConfig with(void (*edit)(train::TrainerConfig&)) {
  train::TrainerConfig c;
  c.progress = train::ProgressMode::Off;
  c.handle_signals = false;
  edit(c);
  return c;
}

TEST(Validation, TrainerConfig) {
  using C = train::TrainerConfig;
  const std::vector<TrainerCase> cases = {
      {with([](C& c) { c.epochs = -1; }), "TrainerConfig: invalid epochs -1 (must be >= 0)"},
      {with([](C& c) { c.batch_size = 0; }), "TrainerConfig: invalid batch_size 0 (must be >= 1)"},
      {with([](C& c) { c.eval_every = 0; }), "TrainerConfig: invalid eval_every 0 (must be >= 1)"},
      {with([](C& c) { c.eval_batch_size = -5; }), "TrainerConfig: invalid eval_batch_size -5"},
      {with([](C& c) { c.clip_grad_norm = -1; }), "TrainerConfig: invalid clip_grad_norm -1"},
      {with([](C& c) { c.clip_grad_norm = kNaN; }), "TrainerConfig: invalid clip_grad_norm nan"},
      {with([](C& c) { c.clip_grad_value = kNaN; }), "TrainerConfig: invalid clip_grad_value nan"},
      {with([](C& c) { c.checkpoint_every = -1; }), "TrainerConfig: invalid checkpoint_every -1"},
      {with([](C& c) { c.keep_last = -1; }), "TrainerConfig: invalid keep_last -1"},
      {with([](C& c) { c.checkpoint_every = 5; }), "checkpoint_every needs a checkpoint_dir"},
      {with([](C& c) { c.max_consecutive_skips = -1; }),
       "TrainerConfig: invalid max_consecutive_skips -1 (must be >= 0)"},
      {with([](C& c) { c.early_stopping_patience = -2; }), "early_stopping_patience"},
      {with([](C& c) { c.early_stopping_min_delta = -0.1; }), "early_stopping_min_delta"},
      {with([](C& c) { c.early_stopping_min_delta = kNaN; }), "early_stopping_min_delta"},
      {with([](C& c) { c.resume = "/nonexistent/nabla/checkpoint"; }), "cannot resume from"},
  };
  for (const TrainerCase& c : cases) {
    SCOPED_TRACE(c.message);
    expect_error(
        [&] {
          train::Trainer trainer(std::make_shared<nn::Linear>(3, 2), optim::SGDConfig{},
                                 sched::NoSchedulerConfig{}, c.config);
        },
        c.message);
  }
  if (!cuda::is_available()) {
    expect_error(
        [] {
          train::Trainer trainer(std::make_shared<nn::Linear>(3, 2), optim::SGDConfig{},
                                 sched::NoSchedulerConfig{},
                                 with([](C& c) { c.device = Device::cuda(0); }));
        },
        "CUDA is not available");
  }
}

struct OptionsCase {
  std::vector<std::string> flags;  // or, when toml is set, the file's text
  std::string toml;
  std::string message;
};

void apply(const OptionsCase& c) {
  nabla::testing::TrainingCommandLine command_line;
  if (!c.toml.empty()) {
    nabla::testing::TempDir dir("nabla_validation");
    const auto path = dir / "run.toml";
    std::ofstream(path) << c.toml;
    command_line.cli.apply_config_file(path.string());
    return;
  }
  std::vector<const char*> flags;
  for (const std::string& f : c.flags) flags.push_back(f.c_str());
  command_line.parse(flags);
}

TEST(Validation, PrecisionOptions) {
  nabla::testing::TrainingCommandLine command_line;
  const train::RunOptions& options = command_line.options;
  command_line.parse({"--precision", "fp16", "--loss-scale", "1024"});
  EXPECT_EQ(options.trainer.precision, Precision::fp16);
  EXPECT_EQ(options.trainer.loss_scale, 1024.0);
  nabla::testing::TempDir dir("nabla_validation");
  std::ofstream(dir / "run.toml") << "[trainer]\nprecision = \"bf16\"\n";
  command_line.cli.apply_config_file((dir / "run.toml").string());
  EXPECT_EQ(options.trainer.precision, Precision::bf16);
}

TEST(Validation, DataOptions) {
  nabla::testing::TrainingCommandLine command_line;
  const train::RunOptions& options = command_line.options;
  command_line.parse({"--dataset", "fashion-mnist", "--normalize", "off"});
  EXPECT_EQ(options.data_dir, data::kFashionMNISTDir);
  EXPECT_FALSE(options.normalize);
  nabla::testing::TempDir dir("nabla_validation");
  std::ofstream(dir / "run.toml") << "[data]\ndataset = \"mnist\"\nnormalize = true\n";
  command_line.cli.apply_config_file((dir / "run.toml").string());
  EXPECT_EQ(options.data_dir, data::mnist_cache_dir().string());
  EXPECT_TRUE(options.normalize);
}

TEST(Validation, RunOptions) {
  const std::vector<OptionsCase> cases = {
      {{"--epochs", "1e300"}, "", "--epochs expects a whole number"},
      {{"--epochs", "nan"}, "", "--epochs expects a whole number"},
      {{"--batch-size", "2.5"}, "", "--batch-size expects a whole number"},
      {{"--step-size", "inf"}, "", "--step-size does not apply to the none schedule"},
      {{"--scheduler", "step", "--step-size", "-inf"}, "", "--step-size expects a whole number"},
      {{"--lr", "abc"}, "", "--lr expects a number, got 'abc'"},
      {{"--lr", ""}, "", "--lr expects a number"},
      {{"--nesterov", "maybe"}, "", "--nesterov expects true or false"},
      {{"--seed", "-3"}, "", "--seed must be >= 0"},
      {{"--threads", "-1"}, "", "--threads must be in [0, 4096], got -1"},
      {{"--threads", "1e12"}, "", "--threads must be in [0, 4096]"},
      {{"--dropout", "1.5"}, "", "--dropout must be in [0, 1), got 1.5"},
      {{"--dropout", "-0.5"}, "", "--dropout must be in [0, 1)"},
      {{"--dropout", "nan"}, "", "--dropout must be in [0, 1)"},
      {{"--hidden", "128,0"}, "", "--hidden must be >= 1, got 0"},
      {{"--hidden", "128,x"}, "", "--hidden expects a number"},
      {{"--device", "tpu"}, "", "tpu"},
      {{"--dataset", "cifar"}, "", "unknown dataset 'cifar'"},
      {{"--normalize", "sometimes"}, "", "--normalize expects true or false"},
      {{"--optimizer", "nosuch"}, "", "unknown optimizer 'nosuch'"},
      {{"--optimizer"}, "", "--optimizer needs a value (NAME)"},
      {{"--scheduler", "nosuch"}, "", "nosuch"},
      {{"--config"}, "", "--config needs a value (FILE)"},
      {{"--optimizer", "adam", "--betas", "0.9"}, "", "--betas expects two numbers, got 1"},
      {{"--optimizer", "rprop", "--etas", "0.5,1.2,2"}, "", "--etas expects two numbers, got 3"},
      {{"--optimizer", "adam", "--bias-correction", "perhaps"}, "", "expects true or false"},
      {{"--optimizer", "adam", "--momentum", "0.9"},
       "",
       "--momentum does not apply to the adam optimizer"},
      {{"--scheduler", "cyclic", "--mode", "sideways"}, "", "unknown value 'sideways'"},
      {{"--progress", "loud"}, "", "unknown value 'loud'"},
      {{"--precision", "fp8"},
       "",
       "--precision: unknown value 'fp8' (expected one of: fp32, bf16, fp16)"},
      {{"--loss-scale", "big"}, "", "--loss-scale expects a number"},
      {{"--no-such-flag"}, "", "unknown flag --no-such-flag"},
      {{"positional"}, "", "unexpected argument 'positional'"},
      {{}, "[trainer]\nepochs = \"five\"\n", "'trainer.epochs' in"},
      {{}, "[trainer]\nepochs = 1e300\n", "expects a whole number"},
      {{}, "[trainer]\nbatch_size = nan\n", "expects a whole number"},
      {{}, "[trainer]\nseed = -1\n", "must be >= 0"},
      {{}, "[trainer]\nwhat = 1\n", "unknown key 'what' in [trainer]"},
      {{}, "[nosuch]\nx = 1\n", "unknown section [nosuch]"},
      {{}, "top = 1\n", "'top' must be a section"},
      {{}, "[optimizer]\ntype = 3\n", "expects a string"},
      {{}, "[optimizer]\ntype = \"sgd\"\nbetas = [0.9, 0.99]\n", "not a field of SGD"},
      {{}, "[optimizer]\ntype = \"rprop\"\nstep_sizes = [1e-6]\n", "expects two numbers, got 1"},
      {{}, "[model]\nhidden = [64, -1]\n", "'model.hidden' in"},
      {{}, "[model]\ndropout = 1.0\n", "must be in [0, 1)"},
      {{}, "[run]\nthreads = -4\n", "must be in [0, 4096], got -4"},
      {{}, "[run]\ndevice = \"gpu7\"\n", "gpu7"},
      {{}, "[data]\ndataset = \"svhn\"\n", "unknown dataset 'svhn'"},
      {{}, "[model]\nnormalize = false\n", "unknown key 'normalize' in [model]"},
      {{}, "[scheduler]\ntype = \"step\"\nmilestones = [1]\n", "unknown key 'milestones'"},
      {{}, "[trainer\n", "config file"},
      {{}, "[trainer]\nprecision = 16\n", "expects a string"},
  };
  for (const OptionsCase& c : cases) {
    SCOPED_TRACE(c.message);
    expect_error([&] { apply(c); }, c.message);
  }
}

// apply_run_settings puts the thread count and the device into effect; 0 threads keeps the
// current count.
TEST(Validation, RunSettingsTakeEffect) {
  const int threads = get_num_threads();
  train::RunOptions o;
  o.threads = 1;
  o.device = "cpu";
  o.trainer.device = Device::cuda(0);
  train::apply_run_settings(o);
  EXPECT_EQ(get_num_threads(), 1);
  EXPECT_EQ(o.trainer.device, Device::cpu());
  o.threads = 0;
  train::apply_run_settings(o);
  EXPECT_EQ(get_num_threads(), 1);
  // More threads than cores: capped at the cores, with a warning.
  o.threads = 4096;
  ::testing::internal::CaptureStderr();
  train::apply_run_settings(o);
  const std::string warning = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(o.threads, num_cores());
  EXPECT_EQ(get_num_threads(), num_cores());
  EXPECT_NE(warning.find("4096 threads asked for"), std::string::npos) << warning;
  set_num_threads(threads);
}

}  // namespace

namespace {
// A diverged run is an error: a loss that is not finite, or worse than a uniform guess.
TEST(Validation, DivergedRunsAreErrors) {
  for (double loss : {double{NAN}, double{INFINITY}, 2.31, 1e30}) {
    SCOPED_TRACE(loss);
    expect_error([&] { train::check_not_diverged({.loss = loss, .accuracy = 0.1}, 10, 16.0); },
                 "training diverged");
  }
  expect_error([] { train::check_not_diverged({.loss = NAN}, 10, 16.0); }, "e.g. --lr 1.6");
  train::check_not_diverged({.loss = 2.30, .accuracy = 0.1}, 10, 0.1);  // an untrained model
  train::check_not_diverged({.loss = 0.05, .accuracy = 0.99}, 10, 0.1);
}
}  // namespace
