// Options of a training program, from a TOML file and the command line. The file's sections map
// onto the config structs; flags override the file:
//
//   # run.toml
//   [model]      hidden = [256]   init = "default"
//   [optimizer]  type = "adam"    lr = 1e-3   betas = [0.9, 0.999]
//   [scheduler]  type = "step"    step_size = 2   gamma = 0.5
//   [trainer]    epochs = 5       batch_size = 128
//
//   mnist_mlp --config run.toml --lr 3e-4 --scheduler cosine --t-max 5
//
// Flags are the fields' names in kebab case (--weight-decay, --step-size); boolean fields are
// bare flags (--nesterov) or take true/false; lists are comma-separated (--milestones 3,6).
// An unknown section, key or flag, or a value of the wrong type, is a nabla::Error naming it.
//
// With --resume (or trainer.resume in the file), the settings the checkpoint recorded take the
// place of the program's defaults: its optimizer and schedule with every field, and its epochs,
// batch_size, seed, shuffle, drop_last, clip_grad_norm, clip_grad_value and precision. The file
// and the flags then apply on top, so a resumed run changes only what they name:
//
//   mnist_mlp --checkpoint-dir runs/mlp --resume --lr 0.01   # the checkpoint's run, lr 0.01
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "nabla/optim/config.h"
#include "nabla/sched/scheduler.h"
#include "nabla/train/trainer.h"

namespace nabla::train {

struct ModelOptions {
  std::vector<int64_t> hidden{256};  // widths of the hidden layers
  std::string init = "default";      // see nn::init: default, uniform, normal, xavier-uniform, ...
  double dropout = 0.0;
};

struct RunOptions {
  std::string data_dir;   // empty: real MNIST when fetched, else Fashion-MNIST (data::find_mnist)
  bool normalize = true;  // the inputs by the data's statistics (data::load_mnist)
  ModelOptions model;
  optim::OptimizerConfig optimizer = optim::SGDConfig{.lr = 0.1, .momentum = 0.9};
  sched::SchedulerConfig scheduler = sched::NoSchedulerConfig{};
  TrainerConfig trainer;
  std::string device = "auto";
  int threads = 0;  // 0: all cores
  bool help = false;
};

// Applies a TOML file (sections data, model, optimizer, scheduler, trainer, run).
void apply_config_file(RunOptions& options, const std::string& path);
// Applies argv[1..]: --config first, then --optimizer and --scheduler, then every other flag.
void apply_command_line(RunOptions& options, int argc, const char* const* argv);
// The flags, with the current values of `defaults` as their defaults, after `about` (what the
// program does; by default mnist_mlp's description).
std::string usage(const std::string& program, const RunOptions& defaults,
                  const std::string& about = "");

// Removes a program's own flag ("--name VALUE" or "--name=VALUE") from argv before
// apply_command_line sees it, and returns its value (nullopt when absent). argc shrinks.
std::optional<std::string> take_flag(int& argc, char** argv, const std::string& name);
// take_flag for a whole number: "--stop-at abc" throws a nabla::Error naming the flag.
std::optional<int64_t> take_integer_flag(int& argc, char** argv, const std::string& name);
// take_flag for a number: "--lr abc" throws a nabla::Error naming the flag.
std::optional<double> take_number_flag(int& argc, char** argv, const std::string& name);

// Puts into effect what the options ask of the process: the thread count (when set), and
// trainer.device from `device` ("auto": the GPU when there is one, else the CPU).
void apply_run_settings(RunOptions& options);

// Throws a nabla::Error saying that training diverged, and what to try, when `result` (the final
// evaluation of a classifier over `num_classes` classes) has a loss that is not finite or worse
// than predicting every class as equally likely (ln num_classes): a diverged run is not a
// success. `lr` is the learning rate the run ended with.
void check_not_diverged(const EvalResult& result, int64_t num_classes, double lr);

// Fills in what a schedule needs and was not given, from the run (PyTorch has no default for
// these; a config struct built in code keeps them required): exponential's gamma and
// exponential-decay's k so that the lr falls to 1/100 over the run, inverse's k to 1/10, step's
// step_size a third of the run, multistep's milestones at 1/2 and 3/4 of it, cosine's t_max the
// run, warm restarts' t_0 a third of it, cyclic's max_lr the optimizer's lr and base_lr a quarter
// of max_lr, one-cycle's max_lr the lr and total_steps the run. The run is epochs, or epochs times
// batches per epoch for a schedule that steps per iteration. Each value derived is logged (info)
// and returned as a line of text.
std::vector<std::string> complete_schedule(RunOptions& options, int64_t train_size);

// The config for a scheduler name as the command line spells it ("step", "exponential-decay",
// "linear-warmup", ...), with its config's defaults.
sched::SchedulerConfig scheduler_for_cli(const std::string& name);

}  // namespace nabla::train
