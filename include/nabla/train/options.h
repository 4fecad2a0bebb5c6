// A training program's options, from its command line and a TOML file, each declared once.
//
//   train::RunOptions options;                      // the program's defaults
//   std::vector<int64_t> hidden{256};
//   train::CommandLine cli("mnist_mlp", "Trains a multilayer perceptron on MNIST.");
//   cli.add_training_options(options);             // data, device, optimizer, schedule, trainer
//   cli.add({.name = "hidden", .help = "hidden layer widths", .section = "model"}, hidden);
//   if (!cli.parse(argc, argv)) return 0;           // it printed --help
//
// The optimizer's, the schedule's and the trainer's options come from their configs' field tables
// (nabla/fields.h): a field's name is its TOML key in the [optimizer], [scheduler] or [trainer]
// section and, in kebab case, its flag (--weight-decay, --step-size); a schedule's field whose name
// the optimizer or the trainer already uses takes the prefix: --scheduler-eps. A program's own
// options are declared with add(). --help is generated from the same declarations and lists
// exactly the flags the program accepts; any other flag is an error (nabla::UsageError, exit
// status 2 through run_program), as is a bad value, a field the chosen optimizer or schedule does
// not have, or an unknown TOML section or key.
//
// Values: numbers as text, booleans bare (--nesterov) or on|off|true|false, lists comma-separated
// (--milestones 3,6). A TOML file (--config run.toml) applies first, then the flags:
//
//   # run.toml
//   [data]       dataset = "fashion-mnist"
//   [model]      hidden = [256]
//   [optimizer]  type = "adam"    lr = 1e-3   betas = [0.9, 0.999]
//   [scheduler]  type = "step"    step_size = 2   gamma = 0.5
//   [trainer]    epochs = 5       batch_size = 128
//   [run]        device = "cpu"   threads = 2
//
// With --resume (or trainer.resume in the file), the settings the checkpoint recorded take the
// place of the program's defaults: its optimizer and schedule with every field, and the trainer's
// kept fields (epochs, batch_size, seed, ...). The file and the flags then apply on top, so a
// resumed run changes only what they name:
//
//   mnist_mlp --checkpoint-dir runs/mlp --resume --lr 0.01   # the checkpoint's run, lr 0.01
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nabla/fields.h"
#include "nabla/optim/config.h"
#include "nabla/sched/scheduler.h"
#include "nabla/train/trainer.h"

namespace nabla::train {

struct RunOptions {
  std::string data_dir;   // empty: real MNIST when fetched, else Fashion-MNIST (data::find_mnist)
  bool normalize = true;  // the inputs by the data's statistics (data::load_mnist)
  optim::OptimizerConfig optimizer = optim::SGDConfig{.lr = 0.1, .momentum = 0.9};
  sched::SchedulerConfig scheduler = sched::NoSchedulerConfig{};
  TrainerConfig trainer;
  std::string device = "auto";
  int threads = 0;  // 0: all cores
};

// One option of a program's own.
struct OptionSpec {
  std::string name;        // the flag is --name; in a section, the TOML key (with '_' for '-')
  std::string help;        // one line
  std::string section;     // its TOML section and --help heading; empty: the command line only
  std::string value_name;  // as --help shows the value ("FILE"); empty: from the type
  Bounds bounds;           // for numbers and lists of numbers
};

class CommandLine {
 public:
  // `about` (what the program does, a few lines) follows the usage line in --help.
  CommandLine(std::string program, std::string about);
  ~CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  // Everything a training program takes: add_data_options, add_optimizer_options,
  // add_scheduler_options and add_trainer_options with every field.
  void add_training_options(RunOptions& options);
  // --data, --dataset, --normalize ([data]); --device, --threads ([run]).
  void add_data_options(RunOptions& options);
  // --optimizer NAME and every field of every optimizer; a field applies when the chosen
  // optimizer has it.
  void add_optimizer_options(optim::OptimizerConfig& optimizer);
  // --scheduler NAME and every field of every schedule a command line can build.
  void add_scheduler_options(sched::SchedulerConfig& scheduler);
  // The trainer's fields: all of them, or only those named (by their table names).
  void add_trainer_options(TrainerConfig& trainer, const std::vector<std::string>& only = {});

  // A program's own option.
  void add(const OptionSpec& spec, std::string& target);
  void add(const OptionSpec& spec, std::optional<std::string>& target);
  void add(const OptionSpec& spec, double& target);
  void add(const OptionSpec& spec, int64_t& target);
  void add(const OptionSpec& spec, bool& target);
  void add(const OptionSpec& spec, std::vector<int64_t>& target);
  // The arguments that are not flags (plot_metrics' files): at least `min_count` of them.
  void add_positional(const std::string& name, const std::string& help,
                      std::vector<std::string>& target, size_t min_count);

  // Applies argv[1..]: --config files first, then the checkpoint's settings when resuming, then
  // the chosen optimizer and schedule, then every other flag in order. Returns false when it
  // printed the help instead (-h, --help: the program then returns 0). With --help the flags'
  // names are checked and their values are not. Throws UsageError.
  bool parse(int argc, const char* const* argv);
  // Applies one TOML file, as --config does. Throws UsageError.
  void apply_config_file(const std::string& path);

  // The help: the usage line, `about`, then each heading's flags with their defaults.
  std::string help() const;
  // Every flag accepted, "--lr" and so on, in the help's order.
  std::vector<std::string> flags() const;

  struct Impl;  // the declared options

 private:
  std::unique_ptr<Impl> impl_;
};

// The names the command line and TOML files give optimizers and schedules ("adaptive-gain",
// "cosine-warm-restarts"; '-' and '_' alike), and the configs they stand for with their defaults.
// Lambda and sequential schedules are code and have no name here.
optim::OptimizerConfig optimizer_from_cli(const std::string& name);
sched::SchedulerConfig scheduler_from_cli(const std::string& name);

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

}  // namespace nabla::train
