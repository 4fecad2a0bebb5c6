#include "nabla/train/trainer.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/files.h"
#include "nabla/autograd.h"
#include "nabla/data/loader.h"
#include "nabla/dist/data_parallel.h"
#include "nabla/log.h"
#include "nabla/nn/functional.h"
#include "nabla/ops.h"
#include "nabla/optim/clip.h"
#include "nabla/optim/factory.h"
#include "nabla/train/checkpoint.h"
#include "train/captured_step.h"
#include "train/config_record.h"
#include "train/progress.h"

namespace nabla::train {

using nlohmann::json;

// ---------------------------------------------------------------- signals

namespace {

std::atomic<int> g_stop_requests{0};
std::atomic<int> g_stop_signal{0};  // the first one

void on_stop_signal(int sig) {
  int none = 0;
  g_stop_signal.compare_exchange_strong(none, sig);
  if (g_stop_requests.fetch_add(1) >= 1 && sig == SIGINT) {
    // A second Ctrl-C: leave now, with the default action.
    ::signal(SIGINT, SIG_DFL);
    ::raise(SIGINT);
  }
}

// Installs the handlers for the duration of fit() and restores the previous ones after.
class SignalGuard {
 public:
  explicit SignalGuard(bool on) : on_(on) {
    if (!on_) return;
    g_stop_requests = 0;
    g_stop_signal = 0;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~SignalGuard() {
    if (!on_) return;
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  bool stop_requested() const { return on_ && g_stop_requests.load() > 0; }
  // Distributed, a rank may stop for another rank's signal: launchers forward SIGTERM.
  int signal() const { return g_stop_signal.load() != 0 ? g_stop_signal.load() : SIGTERM; }

 private:
  bool on_;
  struct sigaction old_int_ {
  }, old_term_{};
};

// Correct predictions of a batch, when the targets are class indices of (N, C) outputs.
int64_t count_correct(const Tensor& output, const Tensor& target) {
  const Tensor correct = correct_predictions(output, target);
  return correct.defined() ? static_cast<int64_t>(correct.item<float>()) : 0;
}

// Divides the gradients of a loss scaled by `scale` back to the loss's own, in one pass over the
// arena's flat gradients.
void unscale_gradients(optim::Optimizer& optimizer, double scale) {
  NoGradGuard no_grad;
  optimizer.arena()->flat_grads().mul_(static_cast<float>(1.0 / scale));
}

// TrainerConfig.plateau_metric with "test_" read as "val_".
std::string canonical_metric(const std::string& name) {
  return name.rfind("test_", 0) == 0 ? "val_" + name.substr(5) : name;
}

// Letters, digits and '_': a name that fits a JSON key and a flag's value as it is.
bool is_metric_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool is_accuracy(const std::string& metric) {
  return metric == "val_accuracy" || metric == "train_accuracy";
}

double optimizer_lr(const optim::OptimizerConfig& config) {
  return std::visit([](const auto& c) { return static_cast<double>(c.lr); }, config);
}

}  // namespace

// ---------------------------------------------------------------- run state

struct Trainer::Run {
  int64_t epoch = 0;  // 0-based index of the epoch in progress
  int64_t global_step = 0;
  int64_t consecutive_skips = 0;
  // Accumulators of the epoch in progress (saved, so a mid-epoch resume reports the same).
  double loss_sum = 0.0;
  int64_t loss_count = 0, correct = 0, seen = 0, skipped = 0;
  double best_val_loss = INFINITY;
  int64_t evals_without_improvement = 0;
  std::optional<State> pending_loader;
  // The lr the epoch's last step used (EpochMetrics.lr); meaningful once the epoch has a step.
  double epoch_lr = 0.0;
  // fp16's dynamic loss scale, and the updates since it last changed.
  double loss_scale = 1.0;
  int64_t loss_scale_steps = 0;

  void reset_epoch() {
    loss_sum = epoch_lr = 0.0;
    loss_count = correct = seen = skipped = 0;
  }

  // PyTorch GradScaler's defaults: halve on an overflow, double after 2000 clean updates.
  void update_loss_scale(bool overflow) {
    constexpr int64_t kGrowthInterval = 2000;
    if (overflow) {
      loss_scale *= 0.5;
      loss_scale_steps = 0;
    } else if (++loss_scale_steps == kGrowthInterval) {
      loss_scale *= 2.0;
      loss_scale_steps = 0;
    }
  }

  State save() const {
    State s;
    s.scalars = {{"epoch", double(epoch)},
                 {"global_step", double(global_step)},
                 {"consecutive_skips", double(consecutive_skips)},
                 {"loss_sum", loss_sum},
                 {"loss_count", double(loss_count)},
                 {"correct", double(correct)},
                 {"seen", double(seen)},
                 {"skipped", double(skipped)},
                 {"best_val_loss", best_val_loss},
                 {"evals_without_improvement", double(evals_without_improvement)},
                 {"loss_scale", loss_scale},
                 {"loss_scale_steps", double(loss_scale_steps)},
                 {"epoch_lr", epoch_lr}};
    const Generator::State rng = default_generator().state();
    s.strings = {{"rng_seed", std::to_string(rng.seed)},
                 {"rng_offset", std::to_string(rng.offset)}};
    return s;
  }

  void load(const State& s) {
    const char* what = "trainer state";
    auto count = [&](const char* key) { return s.count(key, what); };
    auto u64 = [&](const char* key) {
      const std::string& text = s.string(key, what);
      std::size_t end = 0;
      uint64_t v = 0;
      try {
        v = std::stoull(text, &end);
      } catch (const std::exception&) {
        end = 0;
      }
      NABLA_CHECK(!text.empty() && end == text.size() && text[0] != '-',
                  "corrupted {}: '{}' is '{}', expected an unsigned integer", what, key, text);
      return v;
    };
    epoch = count("epoch");
    global_step = count("global_step");
    consecutive_skips = count("consecutive_skips");
    loss_sum = s.finite("loss_sum", what);
    loss_count = count("loss_count");
    correct = count("correct");
    seen = count("seen");
    skipped = count("skipped");
    best_val_loss = s.scalar("best_val_loss", what);
    NABLA_CHECK(!std::isnan(best_val_loss), "{}: the saved best_val_loss is NaN", what);
    evals_without_improvement = count("evals_without_improvement");
    // Checkpoints written before mixed precision have no loss scale: the run's own stays.
    if (s.scalars.count("loss_scale")) {
      loss_scale = s.finite("loss_scale", what, 0.0);
      NABLA_CHECK(loss_scale > 0, "{}: the saved loss_scale is 0", what);
      loss_scale_steps = count("loss_scale_steps");
    }
    // Checkpoints written before it have no epoch_lr: the epoch's next step sets it.
    if (s.scalars.count("epoch_lr")) epoch_lr = s.finite("epoch_lr", what, 0.0);
    default_generator().set_state({u64("rng_seed"), u64("rng_offset")});
  }
};

// ---------------------------------------------------------------- setup

void validate(const TrainerConfig& config) {
  check_fields(config, "TrainerConfig");
  NABLA_CHECK(!config.cuda_graph || config.accumulate_steps == 1,
              "TrainerConfig.cuda_graph is not supported with accumulate_steps > 1 (the captured "
              "step clears the gradients)");
  const std::string metric = canonical_metric(config.plateau_metric);
  NABLA_CHECK(metric == "train_loss" || metric == "train_accuracy" ||
                  (metric.rfind("val_", 0) == 0 && is_metric_name(metric.substr(4))),
              "TrainerConfig.plateau_metric '{}' is unknown (expected val_loss, val_accuracy, "
              "train_loss, train_accuracy or val_<name> for a metric of Trainer::add_metric)",
              config.plateau_metric);
  NABLA_CHECK(config.checkpoint_every == 0 || !config.checkpoint_dir.empty(),
              "TrainerConfig.checkpoint_every needs a checkpoint_dir");
  NABLA_CHECK(config.device.is_cpu() || cuda::is_available(),
              "TrainerConfig.device is {}, but CUDA is not available{}", config.device.str(),
              cuda::is_compiled() ? "" : " (nabla was built without CUDA)");
  NABLA_CHECK(!config.cuda_graph || config.device.is_cuda(),
              "TrainerConfig.cuda_graph needs a CUDA device (the device is {})",
              config.device.str());
  NABLA_CHECK(!config.cuda_graph || config.precision != Precision::fp16,
              "TrainerConfig.cuda_graph is not supported with fp16 (its loss scale changes "
              "between steps); use bf16, which needs no loss scale");
  NABLA_CHECK(!config.cuda_graph || !config.distributed,
              "TrainerConfig.cuda_graph is not supported with distributed training");
}

namespace {

// The groups with each parameter looked up by name in the model, which has moved to its device
// since the caller named them (moving replaces a parameter's storage).
std::vector<optim::ParamGroup> on_model(std::vector<optim::ParamGroup> groups, nn::Module& model) {
  std::map<std::string, Tensor> parameters;
  for (auto& [name, p] : model.named_parameters()) parameters.emplace(name, p);
  std::set<std::string> seen;
  for (size_t g = 0; g < groups.size(); ++g) {
    NABLA_CHECK(!groups[g].params.empty(), "Trainer: parameter group {} is empty", g);
    for (auto& [name, p] : groups[g].params) {
      const auto it = parameters.find(name);
      NABLA_CHECK(it != parameters.end(),
                  "Trainer: parameter group {} names '{}', which is not a parameter of the model "
                  "(model.named_parameters() has its names)",
                  g, name);
      NABLA_CHECK(seen.insert(name).second,
                  "Trainer: the parameter '{}' is in more than one group (group {} again)", name,
                  g);
      p = it->second;
    }
  }
  return groups;
}

}  // namespace

Trainer::Trainer(std::shared_ptr<nn::Module> model, optim::OptimizerConfig optimizer,
                 sched::SchedulerConfig scheduler, TrainerConfig config)
    : Trainer(std::move(model), {}, std::move(optimizer), std::move(scheduler), std::move(config)) {
}

Trainer::Trainer(std::shared_ptr<nn::Module> model, std::vector<optim::ParamGroup> groups,
                 optim::OptimizerConfig optimizer, sched::SchedulerConfig scheduler,
                 TrainerConfig config)
    : model_(std::move(model)),
      optimizer_config_(std::move(optimizer)),
      scheduler_config_(std::move(scheduler)),
      config_(std::move(config)),
      run_(std::make_unique<Run>()) {
  setup([&] {
    return groups.empty()
               ? optim::make_optimizer(*model_, *optimizer_config_)
               : optim::make_optimizer(on_model(std::move(groups), *model_), *optimizer_config_);
  });
}

Trainer::Trainer(std::shared_ptr<nn::Module> model, std::unique_ptr<optim::Optimizer> optimizer,
                 sched::SchedulerConfig scheduler, TrainerConfig config)
    : model_(std::move(model)),
      scheduler_config_(std::move(scheduler)),
      config_(std::move(config)),
      run_(std::make_unique<Run>()) {
  NABLA_CHECK(optimizer != nullptr, "Trainer: the optimizer is null");
  optimizer_config_ = optimizer->config();
  setup([&] {
    // The optimizer holds the parameters' storage: moving the model now would leave it behind.
    for (const auto& [name, p] : model_->named_parameters())
      NABLA_CHECK(p.device() == config_.device,
                  "Trainer: the model's parameter '{}' is on {}, not on {} (TrainerConfig.device): "
                  "move the model there before building its optimizer",
                  name, p.device().str(), config_.device.str());
    return std::move(optimizer);
  });
}

void Trainer::setup(const std::function<std::unique_ptr<optim::Optimizer>()>& build) {
  NABLA_CHECK(model_ != nullptr, "Trainer: the model is null");
  validate(config_);
  run_->loss_scale = config_.loss_scale;
  // Distributed: one process per rank of the MPI job, one GPU per rank of a host.
  if (config_.distributed) {
    const std::shared_ptr<dist::Communicator> world = dist::mpi_world();
    if (config_.device.is_cuda() && config_.device.index == 0)
      config_.device = Device::cuda(world->local_rank() % cuda::device_count());
    parallel_ = std::make_unique<dist::DataParallel>(dist::DataParallel::world(config_.device));
  } else {
    parallel_ = std::make_unique<dist::DataParallel>();
  }
  dist::FailFast fail_fast(parallel_->host());
  manual_seed(config_.seed);
  // The arena is built on the model's final device, so move first.
  model_->to(config_.device);
  optimizer_ = build();
  // Before the schedule sets its first rate.
  base_lr_ = optimizer_config_ ? optimizer_lr(*optimizer_config_) : optimizer_->lr();
  scheduler_ = sched::make_scheduler(*optimizer_, scheduler_config_);
  NABLA_CHECK(!parallel_->distributed() || optimizer_->arena() != nullptr,
              "distributed training needs an optimizer over a parameter arena");
  NABLA_CHECK(!config_.cuda_graph || optimizer_->arena() != nullptr,
              "TrainerConfig.cuda_graph needs an optimizer over a parameter arena");
  NABLA_CHECK(config_.accumulate_steps == 1 || optimizer_->arena() != nullptr,
              "TrainerConfig.accumulate_steps needs an optimizer over a parameter arena");
  NABLA_CHECK(config_.precision != Precision::fp16 || optimizer_->arena() != nullptr,
              "TrainerConfig.precision fp16 needs an optimizer over a parameter arena");
  if (parallel_->distributed()) {
    json settings = json::parse(config_json());
    settings.erase("device");  // each rank of a host has its own GPU
    parallel_->check_model(*optimizer_->arena(), settings.dump());
  }
  if (const auto* plateau = std::get_if<sched::ReduceLROnPlateauConfig>(&scheduler_config_)) {
    const std::string metric = canonical_metric(config_.plateau_metric);
    NABLA_CHECK(
        plateau->unit == sched::StepUnit::Epoch || metric == "val_loss" || metric == "train_loss",
        "TrainerConfig.plateau_metric '{}' needs the plateau schedule's unit epoch: per "
        "iteration it follows each step's training loss",
        config_.plateau_metric);
    if (is_accuracy(metric) && plateau->mode == sched::PlateauMode::Min && parallel_->is_root())
      log_message(LogLevel::Warning,
                  fmt::format("the plateau schedule follows {} in mode min: it cuts the rate "
                              "while the accuracy rises (mode max waits for it to stop rising)",
                              config_.plateau_metric));
  }
  loss_ = [](const Tensor& output, const Tensor& target) {
    return nn::functional::cross_entropy(output, target);
  };
  if (!config_.resume.empty()) resume_from(config_.resume);
}

Trainer::~Trainer() = default;

int64_t Trainer::global_step() const {
  return run_->global_step;
}
int Trainer::rank() const {
  return parallel_->rank();
}
int Trainer::world_size() const {
  return parallel_->size();
}

std::string Trainer::config_json() const {
  json j = detail::kept_trainer_record(config_);
  j.update({{"optimizer", optimizer_->type_name()},
            {"lr", base_lr_},
            {"scheduler", scheduler_->type_name()},
            {"device", config_.device.str()},
            {"optimizer_config", optimizer_config_ ? detail::optimizer_record(*optimizer_config_)
                                                   : json{{"type", optimizer_->type_name()}}},
            {"scheduler_config", detail::scheduler_record(scheduler_config_)}});
  if (parallel_->distributed()) j["ranks"] = parallel_->size();
  return j.dump();
}

// ---------------------------------------------------------------- checkpoints

Checkpoint Trainer::snapshot() const {
  Checkpoint c;
  c.model = model_->state_dict();
  c.sections["optimizer"] = optimizer_->state_dict();
  c.sections["scheduler"] = scheduler_->state_dict();
  c.sections["trainer"] = run_->save();
  // During fit() (a hook saving a checkpoint) the loader's position is the live one.
  if (active_loader_ != nullptr)
    c.sections["loader"] = active_loader_->state_dict();
  else if (run_->pending_loader)
    c.sections["loader"] = *run_->pending_loader;
  c.config_json = config_json();
  c.model_text = model_->str();
  c.data_json = data_identity_;
  return c;
}

void Trainer::save_checkpoint(const std::string& path) const {
  NABLA_CHECK(accumulated_.batches == 0,
              "save_checkpoint: {} batches are accumulated towards the next optimizer step; a "
              "checkpoint is taken between optimizer steps (in on_step_end, or after fit())",
              accumulated_.batches);
  train::save_checkpoint(path, snapshot());
}

namespace {

// A setting that differs between a checkpoint's recorded config and this run's.
struct Change {
  std::string name;  // "optimizer.lr", "scheduler.gamma", "epochs"
  json before, after;
};

// The fields of `saved` and `current` (objects) that differ, named with `prefix`.
void compare_fields(const json& saved, const json& current, const std::string& prefix,
                    std::vector<Change>& out) {
  for (const auto& [key, value] : current.items()) {
    if (key == "type" || !saved.contains(key) || saved[key] == value) continue;
    const json& before = saved[key];
    // SequentialLR's schedules, one by one, when there are as many of the same types.
    bool same_types = before.is_array() && value.is_array() && before.size() == value.size();
    for (size_t i = 0; same_types && i < value.size(); ++i)
      same_types = before[i].is_object() && value[i].is_object() &&
                   before[i].value("type", "") == value[i].value("type", "");
    if (same_types) {
      for (size_t i = 0; i < value.size(); ++i)
        compare_fields(before[i], value[i], fmt::format("{}{}.{}.", prefix, key, i), out);
      continue;
    }
    out.push_back({prefix + key, before, value});
  }
  for (const auto& [key, value] : saved.items())
    if (key != "type" && !current.contains(key)) out.push_back({prefix + key, value, nullptr});
}

// Settings a run cannot take on resume: they matter only when the run starts (Adagrad's
// accumulators start at initial_accumulator_value; the first cosine of warm restarts lasts t_0
// steps, each later one t_mult times the one before).
constexpr const char* kStartOnly[] = {"optimizer.initial_accumulator_value", "scheduler.t_0"};

// Settings that choose which state slots an optimizer keeps (SGD's and RMSprop's momentum
// buffer for a momentum > 0, RMSprop's grad_avg, Adam's max_exp_avg_sq).
constexpr const char* kSlotSettings[] = {"optimizer.momentum", "optimizer.centered",
                                         "optimizer.amsgrad"};

bool changed(const std::vector<Change>& changes, const std::string& name) {
  return std::any_of(changes.begin(), changes.end(),
                     [&](const Change& c) { return c.name == name; });
}

std::string names_of(const std::vector<Change>& changes, const std::string& prefix) {
  std::string out;
  for (const Change& c : changes)
    if (c.name.rfind(prefix, 0) == 0) out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

// The first element of a recorded pair (betas), null when it is not one.
json first(const json& pair) {
  return pair.is_array() && !pair.empty() ? pair[0] : json();
}

// The tensor keys of a state, for comparing the optimizer's slots.
std::set<std::string> tensor_keys(const State& s) {
  std::set<std::string> keys;
  for (const auto& [key, t] : s.tensors) keys.insert(key);
  return keys;
}

}  // namespace

// The rule for a resume with changed settings (docs/design.md, "Resuming with changed settings"):
// the checkpoint's values hold unless this run's config names another, and a value named is taken,
// reported and recorded in the next checkpoint; one that cannot be taken is an error before
// anything loads.
void Trainer::load_checkpoint(const std::string& path) {
  Checkpoint c = train::load_checkpoint(path);
  const json saved = json::parse(c.config_json, nullptr, false);
  const json current = json::parse(config_json());
  NABLA_CHECK(saved.is_object(), "'{}' has a corrupted configuration entry", path);
  const std::string saved_optimizer = saved.value("optimizer", "");
  NABLA_CHECK(saved_optimizer == current["optimizer"],
              "'{}' was written by a run with the {} optimizer; this run uses {}. Resume with the "
              "same optimizer, or start a new run",
              path, saved_optimizer, current["optimizer"].get<std::string>());
  const std::string saved_scheduler = saved.value("scheduler", "");
  NABLA_CHECK(saved_scheduler.empty() || saved_scheduler == current["scheduler"],
              "'{}' was written by a run with the {} schedule; this run uses {}. Resume with the "
              "same schedule, or start a new run",
              path, saved_scheduler, current["scheduler"].get<std::string>());
  for (const char* section : {"optimizer", "scheduler", "trainer"})
    NABLA_CHECK(c.sections.count(section), "'{}' has no {} state", path, section);

  // What changed: the trainer's settings, and the optimizer's and schedule's field by field
  // (a checkpoint from before they were recorded has the optimizer's lr only).
  std::vector<Change> changes;
  const bool recorded = saved.contains("optimizer_config") &&
                        saved["optimizer_config"].is_object() &&
                        saved.contains("scheduler_config") && saved["scheduler_config"].is_object();
  for (const auto& [key, value] : current.items()) {
    if (key == "optimizer_config" || key == "scheduler_config" || (recorded && key == "lr"))
      continue;
    if (saved.contains(key) && saved[key] != value)
      changes.push_back({key == "lr" ? "optimizer.lr" : key, saved[key], value});
  }
  if (recorded) {
    compare_fields(saved["optimizer_config"], current["optimizer_config"], "optimizer.", changes);
    compare_fields(saved["scheduler_config"], current["scheduler_config"], "scheduler.", changes);
  }

  // The changes that cannot be taken, before anything is loaded.
  for (const char* name : kStartOnly)
    NABLA_CHECK(!changed(changes, name),
                "'{}': {} cannot change on resume (it sets the state the run starts from); "
                "resume with the checkpoint's value, or start a new run",
                path, name);
  State optimizer_state = c.sections["optimizer"];
  const State fresh = optimizer_->state_dict();
  // Named by the settings that choose the slots where those changed, else by every change.
  std::string optimizer_changes;
  for (const char* name : kSlotSettings)
    if (changed(changes, name))
      optimizer_changes += (optimizer_changes.empty() ? "" : ", ") + std::string(name);
  if (optimizer_changes.empty()) optimizer_changes = names_of(changes, "optimizer.");
  NABLA_CHECK(optimizer_changes.empty() || tensor_keys(optimizer_state) == tensor_keys(fresh),
              "'{}': {} cannot change on resume: they change which state the {} optimizer keeps "
              "(the checkpoint's has {} values, this run's would have {}); resume with the "
              "checkpoint's values, or start a new run",
              path, optimizer_changes, saved_optimizer, optimizer_state.tensors.size(),
              fresh.tensors.size());
  const bool lr_changed = changed(changes, "optimizer.lr");
  const double saved_lr =
      saved.contains("lr") && saved["lr"].is_number() ? saved["lr"].get<double>() : 0.0;
  // Rprop's lr is the step sizes' first value only (src/optim/methods/rprop.h).
  NABLA_CHECK(!lr_changed || saved_optimizer != "Rprop",
              "'{}': optimizer.lr cannot change on resume: Rprop's lr only sets its step sizes at "
              "the first step; change step_sizes instead, or start a new run",
              path);
  NABLA_CHECK(!lr_changed || saved_lr > 0.0,
              "'{}': the optimizer's lr cannot change from 0 on resume (a schedule's lrs are "
              "multiples of it)",
              path);
  const bool momentum_changed =
      changed(changes, "optimizer.momentum") ||
      (changed(changes, "optimizer.betas") &&
       first(saved["optimizer_config"]["betas"]) != first(current["optimizer_config"]["betas"]));
  const auto& scheduler_scalars = c.sections["scheduler"].scalars;
  const bool cycled =
      std::any_of(scheduler_scalars.begin(), scheduler_scalars.end(),
                  [](const auto& kv) { return kv.first.ends_with("momentum.size"); });
  NABLA_CHECK(!momentum_changed || !cycled,
              "'{}': the {} schedule cycles the optimizer's momentum (beta1), so a new one "
              "cannot take effect; change the schedule's base_momentum and max_momentum instead",
              path, current["scheduler"].get<std::string>());

  try {
    model_->load_state_dict(c.model, true);
  } catch (const Error& e) {
    NABLA_FAIL("'{}' holds another architecture than this model: {}", path, e.what());
  }
  // A group's own value of a setting that changed (Optimizer::set_group_config in the run that
  // wrote the checkpoint) gives way to the new config's.
  std::erase_if(optimizer_state.scalars, [&](const auto& entry) {
    const std::string& key = entry.first;
    const size_t at = key.find(".config.");
    if (key.rfind("group.", 0) != 0 || at == std::string::npos) return false;
    const std::string field = key.substr(at + 8, key.find('.', at + 8) - (at + 8));
    return changed(changes, "optimizer." + field);
  });
  // The group values a changed setting gives are this run's, as its optimizer was built.
  for (const auto& [key, value] : fresh.scalars) {
    const bool is_weight_decay = key.ends_with(".weight_decay");
    const bool is_momentum = key.ends_with(".momentum");
    if (key.rfind("group.", 0) == 0 &&
        ((is_weight_decay && changed(changes, "optimizer.weight_decay")) ||
         (is_momentum && momentum_changed)))
      optimizer_state.scalars[key] = value;
  }
  optimizer_->load_state_dict(optimizer_state);
  // A schedule that now cycles the momentum and did not: it starts from its own first values.
  State scheduler_state = c.sections["scheduler"];
  if (changed(changes, "scheduler.cycle_momentum"))
    for (const auto& [key, value] : scheduler_->state_dict().scalars)
      if (key.rfind("momentum.", 0) == 0) scheduler_state.scalars.emplace(key, value);
  scheduler_->load_state_dict(scheduler_state);
  // A new base lr rescales the schedule: the decay applied so far is kept.
  if (lr_changed) scheduler_->rescale(saved_lr, base_lr_);
  run_->load(c.sections["trainer"]);
  run_->pending_loader.reset();
  if (c.sections.count("loader")) run_->pending_loader = c.sections["loader"];
  // Without the data position a mid-epoch resume would silently start the epoch over.
  NABLA_CHECK(run_->pending_loader || run_->seen == 0,
              "'{}' was written in the middle of epoch {} but has no loader state (the data "
              "position); it cannot resume exactly",
              path, run_->epoch + 1);
  data_identity_ = c.data_json;
  resumed_from_ = path;
  metrics_continue_ = true;
  run_dir_ = std::filesystem::path(path).parent_path().string();
  if (run_dir_.empty()) run_dir_ = ".";

  if (!parallel_->is_root()) return;
  log_message(LogLevel::Info, fmt::format("resumed from {} (epoch {}, step {})", path,
                                          run_->epoch + 1, run_->global_step));
  for (const Change& change : changes)
    log_message(LogLevel::Info,
                fmt::format("  changed since the checkpoint: {}: {} -> {}", change.name,
                            change.before.dump(), change.after.dump()));
}

// A folder resumes from its newest checkpoint that reads whole, saying which newer ones it
// passed over; a file given by name must read, or the error names the newest intact one beside it.
void Trainer::resume_from(const std::string& file_or_dir) {
  std::vector<std::string> skipped;
  const std::string intact = find_intact_checkpoint(file_or_dir, &skipped);
  const bool folder = std::filesystem::is_directory(file_or_dir);
  if (!skipped.empty()) {
    NABLA_CHECK(!intact.empty(), "cannot resume from '{}': no checkpoint there reads whole ({})",
                file_or_dir, skipped.front());
    NABLA_CHECK(folder,
                "{}. The newest intact checkpoint beside it is '{}': resume from that file, or "
                "from the folder",
                skipped.front(), intact);
    if (parallel_->is_root())
      for (const std::string& reason : skipped)
        log_message(LogLevel::Info, "passed over a damaged checkpoint: " + reason);
  }
  load_checkpoint(intact);
}

namespace {
// "MNIST (train images sha256 ba891046..., normalised with mean 0.1307, std 0.3081)"
std::string describe_identity(const std::string& identity) {
  const json j = json::parse(identity, nullptr, false);
  if (!j.is_object()) return fmt::format("unreadable data identity '{}'", identity);
  std::string text = fmt::format("{} ({} images sha256 {:.16}...", j.value("dataset", "?"),
                                 j.value("split", "?"), j.value("images_sha256", "?"));
  const json& norm = j.contains("normalize") ? j["normalize"] : json();
  if (norm.is_object())
    return text + fmt::format(", normalised with mean {:.4f}, std {:.4f})", norm.value("mean", 0.0),
                              norm.value("std", 0.0));
  return text + ", not normalised)";
}
}  // namespace

void Trainer::check_same_data(const std::string& identity) {
  if (!resumed_from_.empty() && !data_identity_.empty() && !identity.empty())
    NABLA_CHECK(
        json::parse(data_identity_, nullptr, false) == json::parse(identity, nullptr, false),
        "'{}' was trained on {}; this run's training set is {}. Resume on the same data "
        "with the same normalisation, or start a new run",
        resumed_from_, describe_identity(data_identity_), describe_identity(identity));
  resumed_from_.clear();
  data_identity_ = identity;
}

// ---------------------------------------------------------------- evaluation

EvalResult Trainer::evaluate(const data::Dataset& dataset) {
  NoGradGuard no_grad;
  AutocastGuard autocast(config_.precision);
  const bool was_training = model_->is_training();
  model_->eval();
  data::DataLoader loader(
      dataset, {.batch_size = config_.eval_batch_size, .pin_memory = config_.device.is_cuda()});
  EvalResult r;
  double loss_sum = 0.0;
  int64_t correct = 0;
  std::vector<double> metric_sums(metrics_.size(), 0.0);
  while (auto batch = loader.next()) {
    // Distributed: each rank evaluates its slice of the batch.
    const auto [begin, end] = parallel_->shard(batch->inputs.size(0));
    if (end == begin) continue;
    const Tensor x = batch->inputs.narrow(0, begin, end - begin).to(config_.device);
    const Tensor y = batch->targets.narrow(0, begin, end - begin).to(config_.device);
    const Tensor out = (*model_)(x);
    const int64_t n = x.size(0);
    loss_sum += static_cast<double>(loss_(out, y).item<float>()) * n;
    correct += count_correct(out, y);
    r.examples += n;
    for (size_t i = 0; i < metrics_.size(); ++i) metric_sums[i] += metrics_[i].second(out, y) * n;
  }
  model_->train(was_training);
  std::vector<double> totals = {loss_sum, static_cast<double>(correct),
                                static_cast<double>(r.examples)};
  totals.insert(totals.end(), metric_sums.begin(), metric_sums.end());
  parallel_->sum(totals);
  r.examples = static_cast<int64_t>(totals[2]);
  if (r.examples > 0) {
    r.loss = totals[0] / r.examples;
    r.accuracy = totals[1] / r.examples;
    for (size_t i = 0; i < metrics_.size(); ++i)
      r.metrics[metrics_[i].first] = totals[3 + i] / r.examples;
  }
  return r;
}

void Trainer::add_metric(const std::string& name, MetricFn fn) {
  NABLA_CHECK(is_metric_name(name) && name != "loss" && name != "accuracy",
              "add_metric: '{}' is not a metric name (letters, digits and '_', other than loss "
              "and accuracy)",
              name);
  NABLA_CHECK(fn != nullptr, "add_metric: the function of '{}' is empty", name);
  for (const auto& [known, unused] : metrics_)
    NABLA_CHECK(known != name, "add_metric: a metric '{}' exists already", name);
  metrics_.emplace_back(name, std::move(fn));
}

// ---------------------------------------------------------------- the loop

// What the steps of one fit() call share, set up in this order (the checks and the checkpoint
// folder first, the signal handlers once the loader is in place) and torn down in reverse.
struct Trainer::Fit {
  Fit(Trainer& trainer, const data::Dataset& train_set, const data::Dataset* val_set);

  void message(const std::string& text) {
    if (root) progress.message(text);
  }

  // Points the trainer's active_loader_ (which snapshot() reads) at the loader while it lives.
  struct LoaderInUse {
    LoaderInUse(const data::DataLoader*& slot, const data::DataLoader& loader) : slot(slot) {
      slot = &loader;
    }
    ~LoaderInUse() { slot = nullptr; }
    const data::DataLoader*& slot;
  };

  const data::Dataset* const val_set;
  const bool root;  // the rank that prints and writes files
  const std::unique_ptr<files::FolderLock> folder_lock;
  data::DataLoader loader;
  const LoaderInUse loader_in_use;
  const int64_t num_batches;
  // TrainerConfig.cuda_graph: full batches replay the captured step, from the second one of this
  // call on (the first runs eagerly, which sets up the libraries' handles and fills the caching
  // allocator that the capture then draws from).
  bool warmed_up;
  const SignalGuard signals;
  const AutocastGuard autocast;
  const bool scaled;  // fp16: the loss is scaled
  Progress progress;
  History history;
  std::ofstream metrics;
  // The epoch in progress.
  std::chrono::steady_clock::time_point epoch_start;
  int64_t examples_this_run = 0;

 private:
  static std::unique_ptr<files::FolderLock> prepare(Trainer& trainer,
                                                    const data::Dataset& train_set,
                                                    const data::Dataset* val_set, bool root);
  static int64_t position(Trainer& trainer, data::DataLoader& loader,
                          const data::Dataset& train_set);
};

History Trainer::fit(const data::Dataset& train_set, const data::Dataset* val_set) {
  dist::FailFast fail_fast(parallel_->host());
  Fit fit(*this, train_set, val_set);  // the checks, the checkpoint folder, the loader
  accumulated_ = {};
  while (run_->epoch < config_.epochs && !reached_max_steps()) {
    start_epoch(fit);
    bool partial = false;  // max_steps ends the run inside the epoch
    while (true) {
      const int64_t batch_index = fit.loader.batch_index();
      if (reached_max_steps() && batch_index < fit.num_batches) {
        partial = true;
        break;
      }
      std::optional<data::Batch> batch = fit.loader.next();
      if (!batch) break;
      if (train_step(fit, *batch, batch_index) && config_.checkpoint_every > 0 &&
          run_->global_step % config_.checkpoint_every == 0)
        checkpoint(fit);
      if (accumulated_.batches == 0 && stop_requested(fit)) {  // between optimizer steps
        checkpoint(fit);
        return interrupted(fit);
      }
    }
    if (partial) {
      end_partial_epoch(fit);
      checkpoint(fit);
      break;
    }
    const bool early_stop = end_epoch(fit);
    checkpoint(fit);
    if (early_stop) {
      fit.history.early_stopped = true;
      fit.message(fmt::format("early stopping: no improvement of the test loss for {} evaluations",
                              run_->evals_without_improvement));
      break;
    }
    if (stop_requested(fit)) return interrupted(fit);  // checkpointed above
  }
  if (reached_max_steps()) {
    fit.history.reached_max_steps = true;
    fit.message(fmt::format("stopped at step {} (max_steps)", run_->global_step));
  }
  return std::move(fit.history);
}

// ---------------------------------------------------------------- preparing a run

namespace {
// The training set's loader.
data::DataLoaderConfig loader_config(const TrainerConfig& config) {
  return {.batch_size = config.batch_size,
          .shuffle = config.shuffle,
          .pin_memory = config.device.is_cuda(),
          .drop_last = config.drop_last,
          .seed = config.seed,
          .prefetch = config.prefetch,
          .resident_on = config.data_on_device ? std::optional(config.device) : std::nullopt};
}
}  // namespace

Trainer::Fit::Fit(Trainer& trainer, const data::Dataset& train_set, const data::Dataset* val_set)
    : val_set(val_set),
      root(trainer.parallel_->is_root()),
      folder_lock(prepare(trainer, train_set, val_set, root)),
      loader(train_set, loader_config(trainer.config_)),
      loader_in_use(trainer.active_loader_, loader),
      num_batches(position(trainer, loader, train_set)),
      warmed_up(trainer.captured_ != nullptr),
      signals(trainer.config_.handle_signals),
      autocast(trainer.config_.precision),
      scaled(trainer.config_.precision == Precision::fp16),
      progress(root ? trainer.config_.progress : ProgressMode::Off) {
  const std::string& path = trainer.config_.metrics_path;
  if (!path.empty() && root) {
    metrics.open(path, trainer.metrics_continue_ ? std::ios::app : std::ios::trunc);
    trainer.metrics_continue_ = true;
    NABLA_CHECK(metrics.good(), "cannot write the metrics file '{}'", path);
  }
}

// Checks the data and claims the files, so that what would fail at the first evaluation or
// checkpoint fails now, before the work.
std::unique_ptr<files::FolderLock> Trainer::Fit::prepare(Trainer& trainer,
                                                         const data::Dataset& train_set,
                                                         const data::Dataset* val_set, bool root) {
  const TrainerConfig& config = trainer.config_;
  trainer.check_same_data(train_set.identity());
  const std::string metric = canonical_metric(config.plateau_metric);
  NABLA_CHECK(!trainer.follows_metric() || val_set != nullptr || metric.rfind("val_", 0) != 0 ||
                  metric == "val_loss",
              "TrainerConfig.plateau_metric {} needs a validation set: pass one to fit()",
              config.plateau_metric);
  const std::string added = metric.substr(4);
  NABLA_CHECK(!trainer.follows_metric() || metric.rfind("val_", 0) != 0 || added == "loss" ||
                  added == "accuracy" ||
                  std::any_of(trainer.metrics_.begin(), trainer.metrics_.end(),
                              [&](const auto& m) { return m.first == added; }),
              "TrainerConfig.plateau_metric {} names no metric: add '{}' with add_metric() first",
              config.plateau_metric, added);
  if (val_set != nullptr) {
    const data::SampleLayout t = train_set.layout(), v = val_set->layout();
    NABLA_CHECK(t.input_shape == v.input_shape && t.input_dtype == v.input_dtype,
                "fit: the evaluation samples are {} {}, the training samples {} {}",
                v.input_shape.str(), dtype_name(v.input_dtype), t.input_shape.str(),
                dtype_name(t.input_dtype));
  }
  // The checkpoint folder is this run's while it runs: locked against other writers, and
  // holding no checkpoint of another run that this one would overwrite or prune.
  std::unique_ptr<files::FolderLock> folder_lock;
  if (root && !config.checkpoint_dir.empty()) {
    check_checkpoint_folder(config.checkpoint_dir);
    folder_lock = std::make_unique<files::FolderLock>(config.checkpoint_dir, "checkpoint folder");
    claim_checkpoint_folder(config.checkpoint_dir, trainer.run_dir_, trainer.run_->global_step,
                            config.overwrite);
    trainer.run_dir_ = config.checkpoint_dir;
  }
  if (root && !config.metrics_path.empty())
    files::require_writable_file(config.metrics_path, "metrics file");
  return folder_lock;
}

// Moves the loader to the run's data position (a checkpoint's, or its epoch's start) and returns
// the number of batches of an epoch.
int64_t Trainer::Fit::position(Trainer& trainer, data::DataLoader& loader,
                               const data::Dataset& train_set) {
  const Run& run = *trainer.run_;
  if (run.pending_loader)
    loader.load_state_dict(*run.pending_loader);
  else
    loader.set_epoch(run.epoch);
  NABLA_CHECK(loader.epoch() == run.epoch,
              "the checkpoint's data position (epoch {}) does not match its trainer state "
              "(epoch {})",
              loader.epoch() + 1, run.epoch + 1);
  const int64_t num_batches = loader.num_batches();
  NABLA_CHECK(num_batches > 0, "fit: the training set yields no batch ({} examples, batch size {})",
              train_set.size(), trainer.config_.batch_size);
  return num_batches;
}

// ---------------------------------------------------------------- a training step

void Trainer::start_epoch(Fit& fit) {
  model_->train();
  fit.epoch_start = std::chrono::steady_clock::now();
  const int64_t first_batch = fit.loader.batch_index();
  fit.examples_this_run = 0;
  fit.progress.start_epoch(run_->epoch + 1, config_.epochs, fit.num_batches, first_batch);
}

// Forward, loss, backward and the update of one batch, or a skip of the update; the counters,
// the loss scale, the progress and on_step_end. Returns false when the update was skipped.
bool Trainer::train_step(Fit& fit, const data::Batch& batch, int64_t batch_index) {
  // The global batch; distributed, this rank computes on its slice [begin, end) of it.
  const int64_t n = batch.inputs.size(0);
  const auto [begin, end] = parallel_->shard(n);
  // The rate this step uses: an iteration schedule moves it on once the step is made.
  const double lr = optimizer_->lr();
  run_->epoch_lr = lr;
  // The slice's loss sum and correct count, then summed over the ranks. With one rank the
  // mean below is the batch loss exactly (a float times a count < 2^29 is exact in double).
  double sums[2] = {0.0, 0.0};
  const Tensor loss = forward(fit, batch.inputs.narrow(0, begin, end - begin),
                              batch.targets.narrow(0, begin, end - begin), sums);
  parallel_->sum(sums);
  const double loss_value = sums[0] / n;
  const double loss_scale = run_->loss_scale;
  run_->seen += n;
  fit.examples_this_run += n;
  run_->correct += static_cast<int64_t>(sums[1]);
  const auto report_progress = [&] {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - fit.epoch_start).count();
    fit.progress.update(batch_index, loss_value, fit.examples_this_run / std::max(seconds, 1e-9));
  };
  bool skipped = false;
  double step_loss = loss_value;  // the mean loss over the optimizer step's examples
  int64_t step_examples = n;
  if (config_.accumulate_steps == 1) {
    skipped = !std::isfinite(loss_value) || !update(fit, loss, end - begin, n, loss_scale);
  } else {
    // Each batch's backward is of its mean loss times its share rows / E of a full step's E
    // examples; the step multiplies the sum by E over the examples it had, giving the gradient
    // of their mean loss. A full step's factor is 1, and the backward sees a mean's magnitude.
    Accumulated& acc = accumulated_;
    const double scale = fit.scaled ? loss_scale : 1.0;
    const double full = static_cast<double>(config_.accumulate_steps * config_.batch_size);
    if (!std::isfinite(loss_value))
      acc.nonfinite = true;  // the step is skipped
    else if (loss.defined())
      mul(loss, static_cast<float>(scale * static_cast<double>(end - begin) / full)).backward();
    ++acc.batches;
    acc.loss_sum += loss_value * n;
    acc.examples += n;
    if (acc.batches < config_.accumulate_steps && batch_index + 1 < fit.num_batches) {
      report_progress();
      return false;
    }
    step_loss = acc.loss_sum / acc.examples;
    step_examples = acc.examples;
    skipped = acc.nonfinite || !apply_update(acc.examples, acc.examples,
                                             scale * static_cast<double>(acc.examples) / full);
    acc = {};
  }
  // fp16: a finite loss whose gradients overflowed halves the scale. Such skips are the
  // scaler's normal search and count towards divergence only once the scale is below 1.
  const bool overflow = fit.scaled && skipped && std::isfinite(step_loss);
  if (fit.scaled && (overflow || !skipped)) run_->update_loss_scale(overflow);
  if (skipped)
    record_skip(fit, step_loss, loss_scale, overflow, batch_index);
  else
    record_update(step_loss, step_examples);
  report_progress();
  if (on_step_end)
    on_step_end({run_->epoch + 1, batch_index, run_->global_step, step_loss, lr, skipped});
  return !skipped;
}

// The forward and loss of this rank's slice (x, y) of the batch, writing its loss sum and
// correct count to `sums`: the captured step replayed, backward included, or an eager step,
// whose loss it returns for update() (undefined for an empty slice).
Tensor Trainer::forward(Fit& fit, const Tensor& x_host, const Tensor& y_host, double (&sums)[2]) {
  const int64_t rows = x_host.size(0);
  if (rows > 0 && replays_captured_step(fit, x_host, y_host)) {
    const CapturedStep::Result r = captured_->run(x_host, y_host);
    sums[0] = r.loss * static_cast<double>(rows);
    sums[1] = static_cast<double>(r.correct);
    return Tensor();
  }
  const Tensor x = x_host.to(config_.device), y = y_host.to(config_.device);
  if (accumulated_.batches == 0) optimizer_->zero_grad();  // else accumulating
  if (rows == 0) return Tensor();
  const Tensor out = (*model_)(x);
  Tensor loss = loss_(out, y);
  sums[0] = static_cast<double>(loss.item<float>()) * rows;
  sums[1] = static_cast<double>(count_correct(out, y));
  return loss;
}

// Whether this batch replays the captured step, which the first such batch captures.
bool Trainer::replays_captured_step(Fit& fit, const Tensor& x, const Tensor& y) {
  if (!config_.cuda_graph || x.size(0) != config_.batch_size) return false;
  if (!fit.warmed_up) {
    fit.warmed_up = true;
    return false;
  }
  if (!captured_) captured_ = std::make_unique<CapturedStep>(*model_, loss_, *optimizer_, x, y);
  return captured_->fits(x, y);
}

// The eager step's backward (of the scaled loss in fp16), the gradients summed over the ranks
// (`rows` of the batch's `n` are this rank's), unscaled and clipped, and the optimizer step.
// Returns false when the optimizer skipped the update.
bool Trainer::update(const Fit& fit, const Tensor& loss, int64_t rows, int64_t n,
                     double loss_scale) {
  if (loss.defined()) (fit.scaled ? mul(loss, static_cast<float>(loss_scale)) : loss).backward();
  return apply_update(rows, n, fit.scaled ? loss_scale : 1.0);
}

// After the backward: the gradients summed over the ranks (`rows` of `n` are this rank's),
// divided by `divisor`, clipped, and the optimizer step.
bool Trainer::apply_update(int64_t rows, int64_t n, double divisor) {
  if (parallel_->distributed()) parallel_->reduce_gradients(*optimizer_->arena(), rows, n);
  if (divisor != 1.0) unscale_gradients(*optimizer_, divisor);
  if (config_.clip_grad_value > 0) optim::clip_grad_value(*optimizer_, config_.clip_grad_value);
  if (config_.clip_grad_norm > 0) optim::clip_grad_norm(*optimizer_, config_.clip_grad_norm);
  return optimizer_->step();
}

// A skipped update: counted, reported, and an error once too many come in a row.
void Trainer::record_skip(Fit& fit, double loss_value, double loss_scale, bool overflow,
                          int64_t batch_index) {
  ++run_->skipped;
  if (!overflow || run_->loss_scale < 1.0) ++run_->consecutive_skips;
  fit.message(overflow
                  ? fmt::format("step {}: gradient overflow at loss scale {}, update "
                                "skipped; the scale is now {}",
                                run_->global_step + 1, loss_scale, run_->loss_scale)
                  : fmt::format("step {}: non-finite {}, update skipped", run_->global_step + 1,
                                std::isfinite(loss_value) ? "gradient" : "loss"));
  NABLA_CHECK(run_->consecutive_skips <= config_.max_consecutive_skips,
              "training diverged: {} consecutive updates had non-finite values (last at "
              "epoch {}, batch {}). Lower the learning rate or clip gradients; {}",
              run_->consecutive_skips, run_->epoch + 1, batch_index + 1,
              fit.history.last_checkpoint.empty()
                  ? std::string("no checkpoint was written")
                  : "the last good checkpoint is " + fit.history.last_checkpoint);
}

// An update made: the step and the epoch's loss counted, the schedule's iteration step and the
// periodic cross-rank parameter check.
void Trainer::record_update(double loss_value, int64_t n) {
  run_->consecutive_skips = 0;
  ++run_->global_step;
  run_->loss_sum += loss_value * n;
  run_->loss_count += n;
  if (scheduler_->unit() == sched::StepUnit::Iteration) scheduler_->step(loss_value);
  if (parallel_->distributed() && config_.check_parameters_every > 0 &&
      run_->global_step % config_.check_parameters_every == 0)
    parallel_->check_parameters(*optimizer_->arena(), run_->global_step);
}

// ---------------------------------------------------------------- fit()'s checkpoints and signals

// Records the data position, and with a checkpoint_dir writes a checkpoint: rank 0 writes, the
// others wait until the file is in place.
void Trainer::checkpoint(Fit& fit) {
  run_->pending_loader = fit.loader.state_dict();
  if (config_.checkpoint_dir.empty()) return;
  if (fit.root)
    fit.history.last_checkpoint = write_checkpoint_in(config_.checkpoint_dir, run_->global_step,
                                                      snapshot(), config_.keep_last);
  else
    fit.history.last_checkpoint =
        (std::filesystem::path(config_.checkpoint_dir) / checkpoint_filename(run_->global_step))
            .string();
  parallel_->barrier();
}

// Whether a stop signal came, on any rank: all ranks stop at the same step.
bool Trainer::stop_requested(const Fit& fit) {
  return parallel_->any(fit.signals.stop_requested());
}

// After a stop signal, once the checkpoint is written.
History Trainer::interrupted(Fit& fit) {
  fit.history.interrupted = true;
  fit.history.signal = fit.signals.signal();
  fit.message(
      fit.history.last_checkpoint.empty()
          ? fmt::format("interrupted at step {} (no checkpoint folder set)", run_->global_step)
          : fmt::format("interrupted at step {}; saved {}. Resume with --resume {}",
                        run_->global_step, fit.history.last_checkpoint, config_.checkpoint_dir));
  return fit.history;
}

// ---------------------------------------------------------------- the end of an epoch

// The epoch's metrics, the schedule's epoch step, early stopping, and the epoch's record: the
// history, the metrics file, the progress and on_epoch_end.
bool Trainer::end_epoch(Fit& fit) {
  const EpochMetrics m = epoch_metrics(fit);
  // ReduceLROnPlateau steps on the epochs that have its metric; the others on every epoch.
  if (scheduler_->unit() == sched::StepUnit::Epoch) {
    if (!follows_metric())
      scheduler_->step(m.test_loss.value_or(m.train_loss));
    else if (const std::optional<double> value = plateau_value(fit, m))
      scheduler_->step(*value);
  }
  const bool stop = early_stopping(m);
  ++run_->epoch;
  run_->reset_epoch();
  record_epoch(fit, m);
  return stop;
}

// max_steps stopped the run inside an epoch: its metrics so far, with an evaluation of the model
// the run ends with. The epoch stays in progress (the schedule's epoch step, early stopping and
// the accumulators wait for its end), so a resumed run finishes it.
void Trainer::end_partial_epoch(Fit& fit) {
  EpochMetrics m = epoch_metrics(fit, true);
  m.partial = true;
  record_epoch(fit, m);
}

// An epoch's record: the history, the metrics file, the progress and on_epoch_end.
void Trainer::record_epoch(Fit& fit, const EpochMetrics& m) {
  fit.history.epochs.push_back(m);
  if (fit.metrics.is_open()) {
    fit.metrics << metrics_json_line(m) << std::endl;
    NABLA_CHECK(fit.metrics.good(), "cannot write the metrics file '{}' (is the disk full?)",
                config_.metrics_path);
  }
  fit.progress.end_epoch(m, config_.epochs);
  if (on_epoch_end) on_epoch_end(m);
}

bool Trainer::reached_max_steps() const {
  return config_.max_steps > 0 && run_->global_step >= config_.max_steps;
}

// The training's metrics of the epoch, with an evaluation every eval_every epochs.
EpochMetrics Trainer::epoch_metrics(const Fit& fit, bool evaluate_now) {
  EpochMetrics m;
  m.epoch = run_->epoch + 1;
  m.step = run_->global_step;
  m.lr = run_->seen > 0 ? run_->epoch_lr : optimizer_->lr();  // the rate of the epoch's last step
  m.train_loss = run_->loss_count ? run_->loss_sum / run_->loss_count : NAN;
  m.train_accuracy = run_->seen ? static_cast<double>(run_->correct) / run_->seen : 0.0;
  m.skipped_steps = run_->skipped;
  if (fit.val_set != nullptr && (evaluate_now || m.epoch % config_.eval_every == 0)) {
    const EvalResult r = evaluate(*fit.val_set);
    m.test_loss = r.loss, m.test_accuracy = r.accuracy;
    m.test_metrics = r.metrics;
  }
  m.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - fit.epoch_start).count();
  m.examples_per_second = fit.examples_this_run / std::max(m.seconds, 1e-9);
  return m;
}

// True after early_stopping_patience evaluations in a row without an improvement of the test
// loss by min_delta.
bool Trainer::early_stopping(const EpochMetrics& m) {
  if (config_.early_stopping_patience <= 0 || !m.test_loss) return false;
  if (*m.test_loss < run_->best_val_loss - config_.early_stopping_min_delta) {
    run_->best_val_loss = *m.test_loss;
    run_->evals_without_improvement = 0;
    return false;
  }
  return ++run_->evals_without_improvement >= config_.early_stopping_patience;
}

bool Trainer::follows_metric() const {
  return std::holds_alternative<sched::ReduceLROnPlateauConfig>(scheduler_config_);
}

// The value of plateau_metric this epoch; none for a validation metric on an epoch without an
// evaluation.
std::optional<double> Trainer::plateau_value(const Fit& fit, const EpochMetrics& m) const {
  const std::string metric = canonical_metric(config_.plateau_metric);
  if (metric == "train_loss" || (metric == "val_loss" && fit.val_set == nullptr))
    return m.train_loss;
  if (metric == "train_accuracy") return m.train_accuracy;
  if (!m.test_loss) return std::nullopt;
  if (metric == "val_loss") return *m.test_loss;
  if (metric == "val_accuracy") return *m.test_accuracy;
  return m.test_metrics.at(metric.substr(4));
}

std::string metrics_json_line(const EpochMetrics& m) {
  auto optional = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json j = {{"epoch", m.epoch},
            {"step", m.step},
            {"lr", m.lr},
            {"train_loss", m.train_loss},
            {"train_accuracy", m.train_accuracy},
            {"test_loss", optional(m.test_loss)},
            {"test_accuracy", optional(m.test_accuracy)},
            {"seconds", m.seconds}};
  for (const auto& [name, value] : m.test_metrics) j["test_" + name] = value;
  if (m.partial) j["partial"] = true;
  return j.dump();
}

}  // namespace nabla::train
