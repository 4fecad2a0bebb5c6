// train::Trainer: the minibatch loop. fit() runs forward, loss, backward, clipping, the optimizer
// step and the schedule, evaluates in eval mode, records metrics, and checkpoints so that a run
// killed at any moment resumes exactly where it stopped.
//
//   train::Trainer trainer(model, optim::AdamConfig{.lr = 1e-3}, sched::NoSchedulerConfig{},
//                          {.epochs = 5, .batch_size = 64, .checkpoint_dir = "runs/mlp"});
//   train::History history = trainer.fit(train_set, &test_set);
//
// Exact resume (CPU): a run of N steps and a run stopped after k steps and resumed give
// bit-identical parameters and metrics, at an epoch boundary or mid-epoch, provided the resumed
// run keeps the same model, data, batch size, seed, optimizer type and thread count.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nabla/data/dataset.h"
#include "nabla/nn/module.h"
#include "nabla/optim/config.h"
#include "nabla/optim/optimizer.h"
#include "nabla/precision.h"
#include "nabla/sched/scheduler.h"
#include "nabla/train/checkpoint.h"

namespace nabla::data {
class DataLoader;
}
namespace nabla::dist {
class DataParallel;
}
namespace nabla::train {
class CapturedStep;
}

namespace nabla::train {

enum class ProgressMode { Auto, Bar, Lines, Off };  // Auto: a bar on a terminal, else lines
constexpr auto enum_names(ProgressMode) {
  using E = EnumName<ProgressMode>;
  return std::array{E{"auto", ProgressMode::Auto}, E{"bar", ProgressMode::Bar},
                    E{"lines", ProgressMode::Lines}, E{"off", ProgressMode::Off}};
}

struct TrainerConfig {
  int64_t epochs = 10;  // the total, also when resuming
  // Stop once the run has made this many optimizer steps in all (0: no limit), whichever of the
  // two comes first. Stopping inside an epoch records its metrics so far (EpochMetrics.partial,
  // with an evaluation) and writes a checkpoint; resuming with a higher limit, or none, finishes
  // the epoch exactly as an uninterrupted run would.
  int64_t max_steps = 0;
  int64_t batch_size = 64;
  // Gradient accumulation: one optimizer step per this many batches (the epoch's last step
  // takes the batches left). The gradients are those of the mean loss over all the step's
  // examples, so accumulate_steps = k with batch_size b steps as batch_size k * b does (for a
  // loss that is a mean over the batch). Steps, schedules, max_steps and checkpoint_every count
  // optimizer steps; checkpoints are taken only between optimizer steps, where no partial
  // gradient exists (a stop signal finishes the step first), so a resume is exact.
  int64_t accumulate_steps = 1;
  uint64_t seed = 0;  // data order and the default generator (dropout)
  Device device = Device::cpu();
  double clip_grad_norm = 0.0;   // 0: off
  double clip_grad_value = 0.0;  // 0: off
  int64_t eval_every = 1;        // epochs
  int64_t eval_batch_size = 1000;
  std::string checkpoint_dir;    // empty: no checkpoints
  int64_t checkpoint_every = 0;  // steps; 0: at the end of each epoch only
  int64_t keep_last = 3;         // 0: keep all
  std::string resume;            // a checkpoint file, or a folder (its latest)
  // A checkpoint_dir holding another run's checkpoints, or the resumed run's later ones, has
  // them removed; without it such a folder is refused (nothing of another run is lost).
  bool overwrite = false;
  // JSON lines, one object per epoch: a fresh run starts the file anew, a resumed one appends.
  std::string metrics_path;
  ProgressMode progress = ProgressMode::Auto;
  bool shuffle = true;
  bool drop_last = false;
  bool prefetch = false;
  // Keep the training set in the device's memory and gather each batch there
  // (DataLoaderConfig::resident_on): the same batches, without a host copy per step.
  bool data_on_device = false;
  // CUDA only: capture the first full batch's zero_grad, forward, loss and backward as a CUDA
  // graph and replay it for every full batch (one launch per step; the optimizer runs after it).
  // For small models whose steps are bound by launch overhead; models that draw random numbers
  // (dropout) or read from the device (batch norm) in the step cannot be captured.
  bool cuda_graph = false;
  // Mixed precision (nabla/precision.h): the forward and backward of training and evaluation
  // under autocast, with float32 master weights and optimizer state. fp16 also scales the loss
  // (dynamic loss scaling with PyTorch GradScaler's defaults: the scale halves on a step whose
  // gradients overflow, which is skipped, and doubles after 2000 steps without one).
  Precision precision = Precision::fp32;
  double loss_scale = 65536.0;  // fp16: the initial scale
  // Stop with an error after this many consecutive skipped (non-finite) updates.
  int64_t max_consecutive_skips = 20;
  // Early stopping on the validation loss: stop after this many evaluations without an
  // improvement of at least min_delta (0: off).
  int64_t early_stopping_patience = 0;
  double early_stopping_min_delta = 0.0;
  // The metric a ReduceLROnPlateau schedule stepped per epoch follows: "val_loss" (the training
  // loss when fit() has no validation set), "val_accuracy", "train_loss" or "train_accuracy"
  // ("test_" may stand for "val_"), or "val_<name>" for a metric of Trainer::add_metric. The
  // validation metrics step it at each evaluation, the training metrics at each epoch end.
  // Choose the schedule's mode to match: max for accuracies.
  std::string plateau_metric = "val_loss";
  // Finish the current step and checkpoint on SIGINT/SIGTERM (a second SIGINT exits at once).
  bool handle_signals = true;
  // Data-parallel over the MPI job (see docs/distributed.md): batch_size is the global batch,
  // split across the ranks; rank 0 alone prints, writes metrics and checkpoints.
  bool distributed = false;
  int64_t check_parameters_every = 100;  // steps between cross-rank parameter checksums; 0: off
};

// The settings a command line or configuration file can give (nabla/fields.h); the kept ones are
// recorded in checkpoints and kept by a resumed run unless named anew. device and
// handle_signals are the program's to set.
constexpr auto fields(const TrainerConfig*) {
  using C = TrainerConfig;
  return std::tuple{
      kept_field("epochs", &C::epochs, "total epochs, also when resuming", at_least(0)),
      kept_field("max_steps", &C::max_steps,
                 "stop after this many optimizer steps in all (0: no limit)", at_least(0)),
      kept_field("batch_size", &C::batch_size, "examples per batch", at_least(1)),
      kept_field("accumulate_steps", &C::accumulate_steps,
                 "batches per optimizer step, on their mean gradient", at_least(1)),
      kept_field("seed", &C::seed, "the data order and the initialisation"),
      kept_field("clip_grad_norm", &C::clip_grad_norm, "the gradients' largest norm (0: off)",
                 at_least(0)),
      kept_field("clip_grad_value", &C::clip_grad_value, "the gradients' largest value (0: off)",
                 at_least(0)),
      field("eval_every", &C::eval_every, "epochs between evaluations", at_least(1)),
      field("eval_batch_size", &C::eval_batch_size, "examples per evaluation batch", at_least(1)),
      field("checkpoint_dir", &C::checkpoint_dir, "write checkpoints there (empty: none)")
          .shown_as("DIR"),
      field("checkpoint_every", &C::checkpoint_every,
            "also checkpoint every this many steps (0: at each epoch's end only)", at_least(0)),
      field("keep_last", &C::keep_last, "checkpoints kept (0: all)", at_least(0)),
      field("resume", &C::resume,
            "continue from this checkpoint, or a folder's latest (alone: the checkpoint dir's), "
            "with the settings it recorded; what is named anew changes, printed as old -> new")
          .shown_as("FILE|DIR"),
      field("overwrite", &C::overwrite,
            "remove another run's checkpoints from the checkpoint dir instead of refusing"),
      field("metrics", &C::metrics_path, "write each epoch's metrics there as a JSON line")
          .shown_as("FILE"),
      field("progress", &C::progress, "how progress is shown"),
      kept_field("shuffle", &C::shuffle, "shuffle the training set each epoch"),
      kept_field("drop_last", &C::drop_last, "drop the last, smaller batch of each epoch"),
      field("prefetch", &C::prefetch, "prepare the next batch on another thread"),
      field("data_on_device", &C::data_on_device,
            "keep the training set in the device's memory, batches gathered there"),
      field("cuda_graph", &C::cuda_graph, "replay each full batch's step as one CUDA graph"),
      kept_field("precision", &C::precision,
                 "products and convolutions in this precision, float32 master weights"),
      field("loss_scale", &C::loss_scale, "fp16: the initial dynamic loss scale", above(0)),
      field("max_consecutive_skips", &C::max_consecutive_skips,
            "stop after this many consecutive skipped (non-finite) steps", at_least(0)),
      field("early_stopping_patience", &C::early_stopping_patience,
            "stop after this many evaluations without improvement (0: off)", at_least(0)),
      field("early_stopping_min_delta", &C::early_stopping_min_delta,
            "the least improvement of the validation loss that counts", at_least(0)),
      kept_field("plateau_metric", &C::plateau_metric,
                 "what plateau follows: val_loss, val_accuracy, train_loss, train_accuracy or "
                 "val_NAME (an added metric)")
          .shown_as("NAME"),
      field("distributed", &C::distributed,
            "data-parallel over the MPI job; batch_size is the global batch"),
      field("check_parameters_every", &C::check_parameters_every,
            "steps between cross-rank parameter checks (0: off)", at_least(0))};
}

// Throws nabla::Error naming the first invalid field or combination of fields (a batch_size of
// 0, a checkpoint_every without a checkpoint_dir, a CUDA device without CUDA, ...). The Trainer
// checks its config so; what needs the model or the optimizer it checks itself.
void validate(const TrainerConfig& config);

struct EpochMetrics {
  int64_t epoch = 0;  // 1-based
  int64_t step = 0;   // global step count at the end of the epoch
  // The learning rate the epoch's last step used (an epoch schedule's rate for the whole epoch;
  // for an iteration schedule, the rate of step `step`, not the next one's).
  double lr = 0.0;
  double train_loss = 0.0;
  double train_accuracy = 0.0;
  std::optional<double> test_loss;
  std::optional<double> test_accuracy;
  std::map<std::string, double> test_metrics;  // Trainer::add_metric's, when evaluated
  double seconds = 0.0;
  double examples_per_second = 0.0;
  int64_t skipped_steps = 0;
  // TrainerConfig.max_steps ended the run inside this epoch: the metrics of its steps so far.
  // A run resumed from there reports the whole epoch again at its end.
  bool partial = false;
};

struct History {
  std::vector<EpochMetrics> epochs;
  bool interrupted = false;        // stopped by a signal after writing a checkpoint
  int signal = 0;                  // that signal (SIGINT or SIGTERM)
  bool early_stopped = false;      // stopped by early stopping
  bool reached_max_steps = false;  // stopped by TrainerConfig.max_steps
  std::string last_checkpoint;
  // The exit status of a program that ends with this run: 128 + the signal when interrupted (as
  // a shell reports a program the signal ended: 130 for SIGINT, 143 for SIGTERM), else 0.
  int exit_status() const { return interrupted ? 128 + signal : 0; }
};

struct EvalResult {
  double loss = 0.0;
  double accuracy = 0.0;
  int64_t examples = 0;
  std::map<std::string, double> metrics;  // Trainer::add_metric's, by name
};

struct StepInfo {
  int64_t epoch = 0;  // 1-based
  int64_t batch = 0;  // within the epoch, 0-based
  int64_t step = 0;   // global, after this step
  // With accumulate_steps, on_step_end runs once per optimizer step: `batch` is its last batch
  // and `loss` the mean over its examples.
  double loss = 0.0;
  double lr = 0.0;  // the learning rate this step used (before the schedule moved it on)
  bool skipped = false;
};

// Loss of a batch: (model output, targets) -> scalar. Default: cross-entropy on class indices.
using LossFn = std::function<Tensor(const Tensor& output, const Tensor& target)>;
// A metric of an evaluation batch: (model output, targets) -> its mean over the batch's examples.
using MetricFn = std::function<double(const Tensor& output, const Tensor& target)>;

class Trainer {
 public:
  Trainer(std::shared_ptr<nn::Module> model, optim::OptimizerConfig optimizer,
          sched::SchedulerConfig scheduler, TrainerConfig config);
  // With parameter groups (PyTorch's param_groups): per-layer learning rates, no weight decay on
  // biases and norm weights (optim::weight_decay_groups), a schedule per group (LambdaLR's
  // lr_lambdas). Each group names the model's parameters as model.named_parameters() does; a
  // group's unset fields take `optimizer`'s values, and parameters in no group are not trained.
  //   Trainer trainer(model, optim::weight_decay_groups(model->named_parameters()),
  //                   optim::AdamWConfig{.lr = 1e-3, .weight_decay = 0.05}, schedule, config);
  Trainer(std::shared_ptr<nn::Module> model, std::vector<optim::ParamGroup> groups,
          optim::OptimizerConfig optimizer, sched::SchedulerConfig scheduler, TrainerConfig config);
  // With an optimizer the caller built over the model's parameters, the model already on
  // config.device: one of nabla's (optim::make_optimizer, groups as wanted) or a subclass of
  // optim::Optimizer of the program's own. Checkpoints save its state_dict(); nabla's also record
  // their config, so a resume compares it as for the constructors above. Distributed training,
  // accumulation, fp16 and CUDA graphs need an optimizer over a parameter arena (nabla's).
  //   auto adam = optim::make_optimizer(model->named_parameters(), optim::AdamConfig{});
  //   Trainer trainer(model, std::move(adam), sched::NoSchedulerConfig{}, config);
  Trainer(std::shared_ptr<nn::Module> model, std::unique_ptr<optim::Optimizer> optimizer,
          sched::SchedulerConfig scheduler, TrainerConfig config);
  ~Trainer();

  History fit(const data::Dataset& train_set, const data::Dataset* val_set = nullptr);
  EvalResult evaluate(const data::Dataset& dataset);

  // Between optimizer steps only (with accumulate_steps, from on_step_end or after fit()).
  void save_checkpoint(const std::string& path) const;
  // Restores model, optimizer, schedule, data position, counters and RNG. The checkpoint's
  // hyperparameters hold unless this trainer's configs differ from the ones it recorded: each
  // difference is taken, logged as "name: old -> new" and recorded in the next checkpoint, and a
  // new lr rescales the schedule (the decay so far is kept). What cannot change (the optimizer or
  // schedule type, the architecture, a setting that changes the optimizer's state) is an error,
  // thrown before anything is loaded (docs/design.md, "Resuming with changed settings").
  void load_checkpoint(const std::string& path);

  void set_loss(LossFn loss) { loss_ = std::move(loss); }
  // Adds a metric that evaluate() computes on each batch (in eval mode, without gradients) and
  // averages over the examples, each batch weighted by its size: EvalResult.metrics[name],
  // EpochMetrics.test_metrics[name] and "test_<name>" in the metrics file. plateau_metric
  // "val_<name>" follows it. Names are letters, digits and '_', not "loss" or "accuracy".
  //   trainer.add_metric("mae", [](const Tensor& out, const Tensor& y) {
  //     return (out - y).abs().mean().item<float>();
  //   });
  void add_metric(const std::string& name, MetricFn fn);
  std::function<void(const StepInfo&)> on_step_end;
  std::function<void(const EpochMetrics&)> on_epoch_end;

  nn::Module& model() { return *model_; }
  optim::Optimizer& optimizer() { return *optimizer_; }
  sched::Scheduler& scheduler() { return *scheduler_; }
  int64_t global_step() const;
  const TrainerConfig& config() const { return config_; }
  // This process's rank and the number of ranks (0 and 1 unless distributed).
  int rank() const;
  int world_size() const;

 private:
  // The constructors' common part: `build` makes the optimizer once the model is on its device.
  void setup(const std::function<std::unique_ptr<optim::Optimizer>()>& build);
  struct Run;  // the counters and accumulators that a checkpoint saves
  std::string config_json() const;
  Checkpoint snapshot() const;
  void resume_from(const std::string& file_or_dir);
  // Throws when the run resumed from a checkpoint of other data (by Dataset::identity()); then
  // records `identity` for the checkpoints to come.
  void check_same_data(const std::string& identity);

  // fit()'s steps, in the order they run; Fit holds what they share during one call.
  struct Fit;
  void start_epoch(Fit& fit);
  bool train_step(Fit& fit, const data::Batch& batch, int64_t batch_index);  // false: skipped
  Tensor forward(Fit& fit, const Tensor& x, const Tensor& y, double (&sums)[2]);
  bool replays_captured_step(Fit& fit, const Tensor& x, const Tensor& y);
  bool update(const Fit& fit, const Tensor& loss, int64_t rows, int64_t n, double loss_scale);
  bool apply_update(int64_t rows, int64_t n, double divisor);
  void record_skip(Fit& fit, double loss_value, double loss_scale, bool overflow,
                   int64_t batch_index);
  void record_update(double loss_value, int64_t n);
  bool end_epoch(Fit& fit);  // true: early stopping ends the run
  void end_partial_epoch(Fit& fit);
  void record_epoch(Fit& fit, const EpochMetrics& m);
  EpochMetrics epoch_metrics(const Fit& fit, bool evaluate_now = false);
  bool reached_max_steps() const;
  bool early_stopping(const EpochMetrics& m);
  bool follows_metric() const;  // a ReduceLROnPlateau schedule
  std::optional<double> plateau_value(const Fit& fit, const EpochMetrics& m) const;
  void checkpoint(Fit& fit);
  bool stop_requested(const Fit& fit);
  History interrupted(Fit& fit);

  std::shared_ptr<nn::Module> model_;
  // The optimizer's config; nullopt for an optimizer of the program's own.
  std::optional<optim::OptimizerConfig> optimizer_config_;
  double base_lr_ = 0.0;  // the lr a checkpoint records and a new lr rescales the schedule from
  sched::SchedulerConfig scheduler_config_;
  TrainerConfig config_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  std::unique_ptr<sched::Scheduler> scheduler_;
  std::unique_ptr<Run> run_;
  LossFn loss_;
  std::vector<std::pair<std::string, MetricFn>> metrics_;  // add_metric's, in order
  // TrainerConfig.accumulate_steps: the batches whose gradients are summed since the last
  // optimizer step, their loss sum and examples, and whether one had a non-finite loss.
  struct Accumulated {
    int64_t batches = 0;
    double loss_sum = 0.0;
    int64_t examples = 0;
    bool nonfinite = false;
  };
  Accumulated accumulated_;
  std::unique_ptr<dist::DataParallel> parallel_;  // the local one unless distributed
  std::unique_ptr<CapturedStep> captured_;        // TrainerConfig.cuda_graph, once captured
  // The training set's Dataset::identity(), recorded in checkpoints; after a resume, the
  // checkpoint's until fit() has compared it with the data it is given.
  std::string data_identity_;
  std::string resumed_from_;  // the checkpoint data_identity_ came from, until fit() checks it
  std::string run_dir_;       // the folder of the checkpoint loaded, or the one fit() wrote into
  const data::DataLoader* active_loader_ = nullptr;  // fit()'s, while it runs
  bool metrics_continue_ =
      false;  // append to metrics_path: resumed, or written by an earlier fit()
};

// Appends one JSON object per line: epoch, step, lr, train_loss, train_accuracy, test_loss,
// test_accuracy, seconds (test_* are null when not evaluated), "test_<name>" for each metric of
// add_metric when evaluated, and "partial": true for an epoch that max_steps ended early.
std::string metrics_json_line(const EpochMetrics& m);

}  // namespace nabla::train
