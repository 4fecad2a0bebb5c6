// Resuming with changed settings: the checkpoint's values hold unless the run names another; a
// value named is taken, reported as "name: old -> new" and recorded in the next checkpoint; a new
// lr rescales the schedule; what cannot change is an error that loses nothing. Every field of
// every optimizer and schedule, one row each.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nabla/nabla.h"
#include "support/gradcheck.h"
#include "support/toy_training.h"

using namespace nabla;
using nabla::testing::flat_params;
using nabla::testing::quiet;
using nabla::testing::toy_classes;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("nabla_resume_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::shared_ptr<nn::Sequential> toy_model(uint64_t seed = 3) {
  Generator gen(seed);
  return std::make_shared<nn::Sequential>(nn::Linear(8, 16, true, &gen), nn::ReLU(),
                                          nn::Linear(16, 4, true, &gen));
}

json recorded_config(const std::string& checkpoint) {
  return json::parse(io::load_safetensors(checkpoint).metadata.at("nabla.config"));
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Collects the library's messages while it lives.
struct LogCapture {
  std::vector<std::string> lines;
  LogSink previous;
  LogCapture() {
    previous = set_log_sink([this](LogLevel, const std::string& text) { lines.push_back(text); });
  }
  ~LogCapture() { set_log_sink(std::move(previous)); }
  bool has(const std::string& line) const {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }
  int changes() const {
    return static_cast<int>(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
      return l.find("changed since the checkpoint") != std::string::npos;
    }));
  }
  std::string all() const {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

constexpr int64_t kEpochs = 4;  // the whole run; the resumes start after epoch 1

// Trains the whole run with a checkpoint at each epoch end and returns the first one (step 6).
std::string first_epoch(const fs::path& dir, const optim::OptimizerConfig& optimizer,
                        const sched::SchedulerConfig& scheduler) {
  train::Trainer trainer(toy_model(), optimizer, scheduler,
                         quiet({.epochs = kEpochs,
                                .batch_size = 16,
                                .seed = 5,
                                .checkpoint_dir = (dir / "first").string(),
                                .keep_last = 0}));
  trainer.fit(*toy_classes(2));
  return (dir / "first" / train::checkpoint_filename(6)).string();
}

struct Resumed {
  std::vector<float> params;
  double lr_after_load = 0.0;
  double lr_at_end = 0.0;
  State optimizer_after_load;
  json next_config;  // the config recorded in the first checkpoint the resumed run writes
};

// Resumes `checkpoint` with the given configs and trains to the end of the run.
Resumed resume(const std::string& checkpoint, const fs::path& dir,
               const optim::OptimizerConfig& optimizer, const sched::SchedulerConfig& scheduler) {
  auto model = toy_model(99);
  train::Trainer trainer(model, optimizer, scheduler,
                         quiet({.epochs = kEpochs,
                                .batch_size = 16,
                                .seed = 5,
                                .checkpoint_dir = dir.string(),
                                .keep_last = 0,
                                .resume = checkpoint}));
  Resumed r;
  r.lr_after_load = trainer.optimizer().lr();
  r.optimizer_after_load = trainer.optimizer().state_dict();
  trainer.fit(*toy_classes(2));
  r.params = flat_params(*model);
  r.lr_at_end = trainer.optimizer().lr();
  r.next_config = recorded_config((dir / train::checkpoint_filename(12)).string());
  return r;
}

// One optimizer of each type, with values away from the defaults where that keeps them valid.
std::vector<optim::OptimizerConfig> every_optimizer() {
  return {optim::SGDConfig{.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 1e-3},
          optim::AdaptiveGainConfig{.lr = 0.05, .beta = 0.1, .max_gain = 4.0},
          optim::RMSpropConfig{.lr = 0.01, .alpha = 0.9, .momentum = 0.5, .centered = true},
          optim::AdamConfig{.lr = 1e-2, .betas = {0.85, 0.99}, .amsgrad = true},
          optim::AdamWConfig{.lr = 1e-2, .weight_decay = 0.05},
          optim::AdagradConfig{.lr = 0.1, .lr_decay = 0.01, .initial_accumulator_value = 0.1},
          optim::AdadeltaConfig{.lr = 1.0, .rho = 0.8},
          optim::AdamaxConfig{.lr = 1e-2, .eps = 1e-6},
          optim::NAdamConfig{.lr = 1e-2, .momentum_decay = 8e-3},
          optim::SWATSConfig{.lr = 1e-2, .eps_switch = 1e-3},
          optim::RpropConfig{.lr = 1e-3, .etas = {0.4, 1.1}, .weight_decay = 1e-3}};
}

// One schedule of each type (epoch steps unless said).
std::vector<sched::SchedulerConfig> every_schedule() {
  using namespace sched;
  return {NoSchedulerConfig{},
          ExponentialLRConfig{.gamma = 0.7},
          ExponentialDecayConfig{.k = 0.3},
          StepLRConfig{.step_size = 2, .gamma = 0.5},
          MultiStepLRConfig{.milestones = {2, 3}, .gamma = 0.5},
          InverseDecayConfig{.k = 1.0},
          CyclicLRConfig{.base_lr = 0.01, .max_lr = 0.1, .step_size_up = 4},
          LambdaLRConfig{.lr_lambda = [](int64_t t) { return 1.0 / double(t + 1); }},
          CosineAnnealingLRConfig{.t_max = 4, .eta_min = 1e-3},
          CosineAnnealingWarmRestartsConfig{.t_0 = 2, .t_mult = 2, .eta_min = 1e-3},
          LinearLRConfig{.start_factor = 0.25, .total_iters = 3},
          OneCycleLRConfig{.max_lr = 0.1, .total_steps = 24},
          ReduceLROnPlateauConfig{.factor = 0.5, .patience = 0},
          SequentialLRConfig{.schedulers = {LinearLRConfig{.start_factor = 0.5, .total_iters = 2},
                                            CosineAnnealingLRConfig{.t_max = 3}},
                             .milestones = {2}}};
}

}  // namespace

namespace {

// The number of fields of an aggregate: the most initialisers it takes.
struct AnyField {
  template <typename T>
  operator T() const;  // NOLINT: converts to any field's type, in unevaluated contexts only
};
template <typename T, typename... Fields>
constexpr size_t field_count() {
  if constexpr (requires { T{Fields{}..., AnyField{}}; })
    return field_count<T, Fields..., AnyField>();
  else
    return sizeof...(Fields);
}

template <size_t... I>
std::vector<std::pair<optim::OptimizerConfig, size_t>> optimizer_fields(std::index_sequence<I...>) {
  return {{std::variant_alternative_t<I, optim::OptimizerConfig>{},
           field_count<std::variant_alternative_t<I, optim::OptimizerConfig>>()}...};
}

}  // namespace

// A checkpoint records every field of every optimizer, so that none is left out of the rule (a
// new config field needs its line in src/train/config_record.cpp).
TEST(ResumeRule, CheckpointsRecordEveryOptimizerField) {
  const fs::path dir = fresh_dir("fields");
  for (const auto& [config, fields] :
       optimizer_fields(std::make_index_sequence<std::variant_size_v<optim::OptimizerConfig>>{})) {
    SCOPED_TRACE(optim::optimizer_name(config));
    train::Trainer trainer(toy_model(), config, sched::NoSchedulerConfig{}, quiet({}));
    const std::string path = (dir / "c.safetensors").string();
    trainer.save_checkpoint(path);
    const json record = recorded_config(path)["optimizer_config"];
    EXPECT_EQ(record.size(), fields + 1) << record.dump();  // and "type"
  }
}

// With nothing named, every value is the checkpoint's: the resumed run is bit for bit the
// uninterrupted one, nothing is reported as changed, and the next checkpoint records the same
// config. Every optimizer, and every schedule (with SGD; with momentum for the cyclic ones).
TEST(ResumeRule, NothingNamedKeepsEveryValueBitForBit) {
  struct Setup {
    optim::OptimizerConfig optimizer;
    sched::SchedulerConfig scheduler;
  };
  std::vector<Setup> setups;
  for (const auto& o : every_optimizer())
    setups.push_back({o, sched::StepLRConfig{.step_size = 1, .gamma = 0.5}});
  for (const auto& s : every_schedule())
    setups.push_back({optim::SGDConfig{.lr = 0.1, .momentum = 0.9}, s});
  const auto data = toy_classes(2);
  for (size_t i = 0; i < setups.size(); ++i) {
    const Setup& s = setups[i];
    SCOPED_TRACE(fmt::format("{} with {}", optim::optimizer_name(s.optimizer), i));
    const fs::path dir = fresh_dir(fmt::format("same_{}", i));
    auto straight_model = toy_model();
    train::Trainer straight(straight_model, s.optimizer, s.scheduler,
                            quiet({.epochs = kEpochs, .batch_size = 16, .seed = 5}));
    straight.fit(*data);

    const std::string checkpoint = first_epoch(dir, s.optimizer, s.scheduler);
    LogCapture log;
    const Resumed r = resume(checkpoint, dir / "resumed", s.optimizer, s.scheduler);
    EXPECT_EQ(r.params, flat_params(*straight_model));
    EXPECT_EQ(r.lr_at_end, straight.optimizer().lr());
    EXPECT_EQ(log.changes(), 0) << log.all();
    const json first = recorded_config(checkpoint);
    EXPECT_EQ(r.next_config["optimizer_config"], first["optimizer_config"]);
    EXPECT_EQ(r.next_config["scheduler_config"], first["scheduler_config"]);
  }
}

namespace {

// A resume that names one new value.
struct Row {
  std::string name;           // as reported: "optimizer.eps"
  std::string before, after;  // as reported, JSON
  optim::OptimizerConfig optimizer, changed_optimizer;
  sched::SchedulerConfig scheduler = sched::NoSchedulerConfig{};
  sched::SchedulerConfig changed_scheduler = sched::NoSchedulerConfig{};
  // The group value it sets, checked after loading ("group.0.weight_decay"); empty: none.
  std::string group_key;
  double group_value = 0.0;
  // Whether the rest of the run must differ from a resume that keeps the value (false where the
  // value has no effect on these steps, as skip_nonfinite without a non-finite gradient).
  bool changes_the_run = true;
};

template <typename C>
Row optimizer_row(const std::string& field, const std::string& before, const std::string& after,
                  C base, C changed, std::string group_key = "", double group_value = 0.0,
                  bool changes_the_run = true) {
  return {.name = "optimizer." + field,
          .before = before,
          .after = after,
          .optimizer = base,
          .changed_optimizer = changed,
          .group_key = std::move(group_key),
          .group_value = group_value,
          .changes_the_run = changes_the_run};
}

template <typename C>
Row schedule_row(const std::string& field, const std::string& before, const std::string& after,
                 C base, C changed, bool changes_the_run = true) {
  const optim::OptimizerConfig sgd = optim::SGDConfig{.lr = 0.1, .momentum = 0.9};
  return {.name = "scheduler." + field,
          .before = before,
          .after = after,
          .optimizer = sgd,
          .changed_optimizer = sgd,
          .scheduler = base,
          .changed_scheduler = changed,
          .changes_the_run = changes_the_run};
}

std::vector<Row> optimizer_rows() {
  using namespace optim;
  const SGDConfig sgd{.lr = 0.1, .momentum = 0.9};
  const AdaptiveGainConfig gain{.lr = 0.05};
  const RMSpropConfig rms{.lr = 0.01, .momentum = 0.5};
  const AdamConfig adam{.lr = 1e-2};
  const AdamWConfig adamw{.lr = 1e-2};
  const AdagradConfig adagrad{.lr = 0.1};
  const AdadeltaConfig adadelta{.lr = 1.0};
  const AdamaxConfig adamax{.lr = 1e-2};
  const NAdamConfig nadam{.lr = 1e-2};
  const SWATSConfig swats{.lr = 1e-2, .eps_switch = 1e-3};
  const RpropConfig rprop{.lr = 1e-2};
  auto with = [](auto c, auto set) {
    set(c);
    return c;
  };
  std::vector<Row> rows = {
      // SGD
      optimizer_row("momentum", "0.9", "0.5", sgd, with(sgd, [](auto& c) { c.momentum = 0.5; }),
                    "group.0.momentum", 0.5),
      optimizer_row("dampening", "0.0", "0.3", sgd, with(sgd, [](auto& c) { c.dampening = 0.3; })),
      optimizer_row("weight_decay", "0.0", "0.01", sgd,
                    with(sgd, [](auto& c) { c.weight_decay = 0.01; }), "group.0.weight_decay",
                    0.01),
      optimizer_row("nesterov", "false", "true", sgd,
                    with(sgd, [](auto& c) { c.nesterov = true; })),
      optimizer_row("classical", "false", "true", sgd,
                    with(sgd, [](auto& c) { c.classical = true; })),
      // AdaptiveGain
      optimizer_row("beta", "0.05", "0.2", gain, with(gain, [](auto& c) { c.beta = 0.2; })),
      optimizer_row("weight_decay", "0.0", "0.01", gain,
                    with(gain, [](auto& c) { c.weight_decay = 0.01; }), "group.0.weight_decay",
                    0.01),
      optimizer_row("min_gain", "0.0", "0.99", gain,
                    with(gain, [](auto& c) { c.min_gain = 0.99; })),
      optimizer_row("max_gain", "\"inf\"", "1.01", gain,
                    with(gain, [](auto& c) { c.max_gain = 1.01; })),
      // RMSprop
      optimizer_row("alpha", "0.99", "0.5", rms, with(rms, [](auto& c) { c.alpha = 0.5; })),
      optimizer_row("eps", "1e-08", "0.001", rms, with(rms, [](auto& c) { c.eps = 1e-3; })),
      optimizer_row("weight_decay", "0.0", "0.01", rms,
                    with(rms, [](auto& c) { c.weight_decay = 0.01; }), "group.0.weight_decay",
                    0.01),
      optimizer_row("momentum", "0.5", "0.8", rms, with(rms, [](auto& c) { c.momentum = 0.8; }),
                    "group.0.momentum", 0.8),
      optimizer_row("eps_inside_sqrt", "false", "true", rms,
                    with(rms, [](auto& c) { c.eps_inside_sqrt = true; })),
      // Adam
      optimizer_row("betas", "[0.9,0.999]", "[0.8,0.999]", adam,
                    with(adam, [](auto& c) { c.betas[0] = 0.8; }), "group.0.momentum", 0.8),
      optimizer_row("betas", "[0.9,0.999]", "[0.9,0.9]", adam,
                    with(adam, [](auto& c) { c.betas[1] = 0.9; })),
      optimizer_row("eps", "1e-08", "0.001", adam, with(adam, [](auto& c) { c.eps = 1e-3; })),
      optimizer_row("weight_decay", "0.0", "0.1", adam,
                    with(adam, [](auto& c) { c.weight_decay = 0.1; }), "group.0.weight_decay", 0.1),
      // AdamW
      optimizer_row("weight_decay", "0.01", "0.5", adamw,
                    with(adamw, [](auto& c) { c.weight_decay = 0.5; }), "group.0.weight_decay",
                    0.5),
      optimizer_row("betas", "[0.9,0.999]", "[0.7,0.99]", adamw,
                    with(adamw,
                         [](auto& c) {
                           c.betas = {0.7, 0.99};
                         }),
                    "group.0.momentum", 0.7),
      optimizer_row("eps", "1e-08", "0.001", adamw, with(adamw, [](auto& c) { c.eps = 1e-3; })),
      // Adagrad
      optimizer_row("lr_decay", "0.0", "0.5", adagrad,
                    with(adagrad, [](auto& c) { c.lr_decay = 0.5; })),
      optimizer_row("weight_decay", "0.0", "0.01", adagrad,
                    with(adagrad, [](auto& c) { c.weight_decay = 0.01; }), "group.0.weight_decay",
                    0.01),
      optimizer_row("eps", "1e-10", "0.1", adagrad, with(adagrad, [](auto& c) { c.eps = 0.1; })),
      // Adadelta
      optimizer_row("rho", "0.9", "0.5", adadelta, with(adadelta, [](auto& c) { c.rho = 0.5; })),
      optimizer_row("eps", "1e-06", "0.001", adadelta,
                    with(adadelta, [](auto& c) { c.eps = 1e-3; })),
      optimizer_row("weight_decay", "0.0", "0.01", adadelta,
                    with(adadelta, [](auto& c) { c.weight_decay = 0.01; }), "group.0.weight_decay",
                    0.01),
      // Adamax
      optimizer_row("betas", "[0.9,0.999]", "[0.5,0.9]", adamax,
                    with(adamax,
                         [](auto& c) {
                           c.betas = {0.5, 0.9};
                         }),
                    "group.0.momentum", 0.5),
      optimizer_row("eps", "1e-08", "0.1", adamax, with(adamax, [](auto& c) { c.eps = 0.1; })),
      optimizer_row("weight_decay", "0.0", "0.01", adamax,
                    with(adamax, [](auto& c) { c.weight_decay = 0.01; }), "group.0.weight_decay",
                    0.01),
      // NAdam
      optimizer_row("betas", "[0.9,0.999]", "[0.8,0.99]", nadam,
                    with(nadam,
                         [](auto& c) {
                           c.betas = {0.8, 0.99};
                         }),
                    "group.0.momentum", 0.8),
      optimizer_row("eps", "1e-08", "0.001", nadam, with(nadam, [](auto& c) { c.eps = 1e-3; })),
      optimizer_row("weight_decay", "0.0", "0.01", nadam,
                    with(nadam, [](auto& c) { c.weight_decay = 0.01; }), "group.0.weight_decay",
                    0.01),
      optimizer_row("momentum_decay", "0.004", "0.1", nadam,
                    with(nadam, [](auto& c) { c.momentum_decay = 0.1; })),
      // SWATS
      optimizer_row("betas", "[0.9,0.999]", "[0.8,0.99]", swats,
                    with(swats,
                         [](auto& c) {
                           c.betas = {0.8, 0.99};
                         }),
                    "group.0.momentum", 0.8),
      optimizer_row("eps", "1e-08", "0.001", swats, with(swats, [](auto& c) { c.eps = 1e-3; })),
      optimizer_row("weight_decay", "0.0", "0.01", swats,
                    with(swats, [](auto& c) { c.weight_decay = 0.01; }), "group.0.weight_decay",
                    0.01),
      // Rprop (a new lr is refused: it sets the step sizes at the first step only)
      optimizer_row("etas", "[0.5,1.2]", "[0.3,1.5]", rprop,
                    with(rprop,
                         [](auto& c) {
                           c.etas = {0.3, 1.5};
                         })),
      optimizer_row("step_sizes", "[1e-06,50.0]", "[1e-06,0.001]", rprop,
                    with(rprop,
                         [](auto& c) {
                           c.step_sizes = {1e-6, 1e-3};
                         })),
      optimizer_row("weight_decay", "0.0", "0.1", rprop,
                    with(rprop, [](auto& c) { c.weight_decay = 0.1; }), "group.0.weight_decay",
                    0.1),
      optimizer_row("skip_nonfinite", "true", "false", rprop,
                    with(rprop, [](auto& c) { c.skip_nonfinite = false; }), "", 0.0, false),
      // Adam's and AdamW's bias correction
      optimizer_row("bias_correction", "true", "false", adam,
                    with(adam, [](auto& c) { c.bias_correction = false; })),
      optimizer_row("bias_correction", "true", "false", adamw,
                    with(adamw, [](auto& c) { c.bias_correction = false; })),
      optimizer_row("eps_switch", "0.001", "1e-12", swats,
                    with(swats, [](auto& c) { c.eps_switch = 1e-12; }), "", 0.0, false),
  };
  // Every optimizer's lr: without a schedule the new lr is the one in effect.
  for (const OptimizerConfig& base : std::vector<OptimizerConfig>{
           sgd, gain, rms, adam, adamw, adagrad, adadelta, adamax, nadam, swats}) {
    OptimizerConfig changed = base;
    const double lr = std::visit([](const auto& c) { return c.lr; }, base);
    std::visit([](auto& c) { c.lr *= 0.3; }, changed);
    rows.push_back({.name = "optimizer.lr",
                    .before = json(lr).dump(),
                    .after = json(lr * 0.3).dump(),
                    .optimizer = base,
                    .changed_optimizer = changed,
                    .group_key = "group.0.lr",
                    .group_value = lr * 0.3});
    // skip_nonfinite: without a non-finite gradient the run is the same.
    OptimizerConfig checked = base;
    std::visit([](auto& c) { c.skip_nonfinite = false; }, checked);
    rows.push_back({.name = "optimizer.skip_nonfinite",
                    .before = "true",
                    .after = "false",
                    .optimizer = base,
                    .changed_optimizer = checked,
                    .changes_the_run = false});
  }
  return rows;
}

std::vector<Row> schedule_rows() {
  using namespace sched;
  auto with = [](auto c, auto set) {
    set(c);
    return c;
  };
  const ExponentialLRConfig exponential{.gamma = 0.7};
  const ExponentialDecayConfig decay{.k = 0.3};
  const StepLRConfig step{.step_size = 2, .gamma = 0.5};
  const MultiStepLRConfig multistep{.milestones = {2, 3}, .gamma = 0.5};
  const InverseDecayConfig inverse{.k = 1.0};
  const CyclicLRConfig cyclic{.base_lr = 0.01, .max_lr = 0.1, .step_size_up = 4};
  const CosineAnnealingLRConfig cosine{.t_max = 4, .eta_min = 1e-3};
  const CosineAnnealingWarmRestartsConfig restarts{
      .t_0 = 2, .t_mult = 2, .eta_min = 1e-3, .unit = StepUnit::Iteration};
  const LinearLRConfig linear{.start_factor = 0.25, .total_iters = 3};
  const OneCycleLRConfig onecycle{.max_lr = 0.1, .total_steps = 25};
  const ReduceLROnPlateauConfig plateau{.factor = 0.5, .patience = 0, .threshold = 0.5};
  const SequentialLRConfig sequential{
      .schedulers = {LinearLRConfig{.start_factor = 0.5, .total_iters = 2},
                     CosineAnnealingLRConfig{.t_max = 3}},
      .milestones = {2}};
  return {
      schedule_row("gamma", "0.7", "0.5", exponential,
                   with(exponential, [](auto& c) { c.gamma = 0.5; })),
      schedule_row("unit", "\"epoch\"", "\"iteration\"", exponential,
                   with(exponential, [](auto& c) { c.unit = StepUnit::Iteration; })),
      schedule_row("k", "0.3", "0.1", decay, with(decay, [](auto& c) { c.k = 0.1; })),
      schedule_row("step_size", "2", "1", step, with(step, [](auto& c) { c.step_size = 1; })),
      schedule_row("gamma", "0.5", "0.1", step, with(step, [](auto& c) { c.gamma = 0.1; })),
      schedule_row("milestones", "[2,3]", "[2]", multistep,
                   with(multistep, [](auto& c) { c.milestones = {2}; })),
      schedule_row("gamma", "0.5", "0.2", multistep,
                   with(multistep, [](auto& c) { c.gamma = 0.2; })),
      schedule_row("k", "1.0", "3.0", inverse, with(inverse, [](auto& c) { c.k = 3.0; })),
      schedule_row("base_lr", "[0.01]", "[0.02]", cyclic,
                   with(cyclic, [](auto& c) { c.base_lr = 0.02; })),
      schedule_row("max_lr", "[0.1]", "[0.2]", cyclic,
                   with(cyclic, [](auto& c) { c.max_lr = 0.2; })),
      schedule_row("step_size_up", "4", "2", cyclic,
                   with(cyclic, [](auto& c) { c.step_size_up = 2; })),
      schedule_row("step_size_down", "null", "1", cyclic,
                   with(cyclic, [](auto& c) { c.step_size_down = 1; })),
      schedule_row("mode", "\"triangular\"", "\"exp_range\"", cyclic,
                   with(cyclic, [](auto& c) { c.mode = CyclicMode::ExpRange, c.gamma = 0.9; })),
      schedule_row("gamma", "0.9", "0.5",
                   with(cyclic, [](auto& c) { c.mode = CyclicMode::ExpRange, c.gamma = 0.9; }),
                   with(cyclic, [](auto& c) { c.mode = CyclicMode::ExpRange, c.gamma = 0.5; })),
      schedule_row(
          "scale_mode", "\"cycle\"", "\"iterations\"",
          with(cyclic, [](auto& c) { c.scale_fn = [](double x) { return 1.0 / (1.0 + x); }; }),
          with(cyclic,
               [](auto& c) {
                 c.scale_fn = [](double x) { return 1.0 / (1.0 + x); };
                 c.scale_mode = CyclicScaleMode::Iterations;
               })),
      schedule_row("cycle_momentum", "true", "false", cyclic,
                   with(cyclic, [](auto& c) { c.cycle_momentum = false; })),
      schedule_row("cycle_momentum", "false", "true",
                   with(cyclic, [](auto& c) { c.cycle_momentum = false; }), cyclic),
      schedule_row("base_momentum", "[0.8]", "[0.5]", cyclic,
                   with(cyclic, [](auto& c) { c.base_momentum = 0.5; })),
      schedule_row("max_momentum", "[0.9]", "[0.95]", cyclic,
                   with(cyclic, [](auto& c) { c.max_momentum = 0.95; })),
      schedule_row("unit", "\"iteration\"", "\"epoch\"", cyclic,
                   with(cyclic, [](auto& c) { c.unit = StepUnit::Epoch; })),
      schedule_row("t_max", "4", "8", cosine, with(cosine, [](auto& c) { c.t_max = 8; })),
      schedule_row("eta_min", "0.001", "0.01", cosine,
                   with(cosine, [](auto& c) { c.eta_min = 0.01; })),
      schedule_row("t_mult", "2", "1", restarts, with(restarts, [](auto& c) { c.t_mult = 1; })),
      schedule_row("eta_min", "0.001", "0.01", restarts,
                   with(restarts, [](auto& c) { c.eta_min = 0.01; })),
      schedule_row("start_factor", "0.25", "0.5", linear,
                   with(linear, [](auto& c) { c.start_factor = 0.5; })),
      schedule_row("end_factor", "1.0", "0.5", linear,
                   with(linear, [](auto& c) { c.end_factor = 0.5; })),
      schedule_row("total_iters", "3", "2", linear,
                   with(linear, [](auto& c) { c.total_iters = 2; })),
      schedule_row("max_lr", "[0.1]", "[0.2]", onecycle,
                   with(onecycle, [](auto& c) { c.max_lr = 0.2; })),
      schedule_row("total_steps", "25", "30", onecycle,
                   with(onecycle, [](auto& c) { c.total_steps = 30; })),
      schedule_row("pct_start", "0.3", "0.5", onecycle,
                   with(onecycle, [](auto& c) { c.pct_start = 0.5; })),
      schedule_row("anneal_strategy", "\"cos\"", "\"linear\"", onecycle,
                   with(onecycle, [](auto& c) { c.anneal_strategy = AnnealStrategy::Linear; })),
      schedule_row("base_momentum", "[0.85]", "[0.8]", onecycle,
                   with(onecycle, [](auto& c) { c.base_momentum = 0.8; })),
      schedule_row("max_momentum", "[0.95]", "[0.9]", onecycle,
                   with(onecycle, [](auto& c) { c.max_momentum = 0.9; })),
      schedule_row("div_factor", "25.0", "10.0", onecycle,
                   with(onecycle, [](auto& c) { c.div_factor = 10.0; })),
      schedule_row("final_div_factor", "10000.0", "100.0", onecycle,
                   with(onecycle, [](auto& c) { c.final_div_factor = 100.0; })),
      schedule_row("cycle_momentum", "true", "false", onecycle,
                   with(onecycle, [](auto& c) { c.cycle_momentum = false; })),
      schedule_row("cycle_momentum", "false", "true",
                   with(onecycle, [](auto& c) { c.cycle_momentum = false; }), onecycle),
      schedule_row("three_phase", "false", "true", onecycle,
                   with(onecycle, [](auto& c) { c.three_phase = true; })),
      schedule_row(
          "epochs", "4", "5",
          with(onecycle,
               [](auto& c) { c.total_steps.reset(), c.epochs = 4, c.steps_per_epoch = 6; }),
          with(onecycle,
               [](auto& c) { c.total_steps.reset(), c.epochs = 5, c.steps_per_epoch = 6; })),
      schedule_row(
          "steps_per_epoch", "6", "7",
          with(onecycle,
               [](auto& c) { c.total_steps.reset(), c.epochs = 4, c.steps_per_epoch = 6; }),
          with(onecycle,
               [](auto& c) { c.total_steps.reset(), c.epochs = 4, c.steps_per_epoch = 7; })),
      schedule_row("factor", "0.5", "0.1", plateau, with(plateau, [](auto& c) { c.factor = 0.1; })),
      schedule_row("patience", "0", "5", plateau, with(plateau, [](auto& c) { c.patience = 5; })),
      schedule_row("threshold", "0.5", "0.0001", plateau,
                   with(plateau, [](auto& c) { c.threshold = 1e-4; })),
      schedule_row(
          "threshold_mode", "\"rel\"", "\"abs\"", plateau,
          with(plateau, [](auto& c) { c.threshold_mode = ThresholdMode::Abs, c.threshold = 0.5; })),
      schedule_row("cooldown", "0", "2", plateau, with(plateau, [](auto& c) { c.cooldown = 2; })),
      schedule_row("min_lr", "[0.0]", "[0.09]", plateau,
                   with(plateau, [](auto& c) { c.min_lr = 0.09; })),
      schedule_row("eps", "1e-08", "1.0", plateau, with(plateau, [](auto& c) { c.eps = 1.0; })),
      schedule_row("mode", "\"min\"", "\"max\"", with(plateau, [](auto& c) { c.threshold = 1e-4; }),
                   with(plateau, [](auto& c) { c.threshold = 1e-4, c.mode = PlateauMode::Max; })),
      schedule_row("milestones", "[2]", "[3]", sequential,
                   with(sequential, [](auto& c) { c.milestones = {3}; })),
      schedule_row(
          "schedulers.1.t_max", "3", "6", sequential,
          with(sequential, [](auto& c) { c.schedulers[1] = CosineAnnealingLRConfig{.t_max = 6}; })),
  };
}

// Resumes a row's checkpoint with its change and checks what the rule says of it.
void check_row_is_taken(const Row& row, const fs::path& dir) {
  const std::string checkpoint = first_epoch(dir, row.optimizer, row.scheduler);
  const Resumed kept = resume(checkpoint, dir / "kept", row.optimizer, row.scheduler);
  LogCapture log;
  const Resumed changed =
      resume(checkpoint, dir / "changed", row.changed_optimizer, row.changed_scheduler);
  // Reported, once per change.
  const std::string line =
      fmt::format("  changed since the checkpoint: {}: {} -> {}", row.name, row.before, row.after);
  EXPECT_TRUE(log.has(line)) << "expected '" << line << "' in:\n" << log.all();
  // In effect after the resume.
  if (!row.group_key.empty()) {
    EXPECT_EQ(changed.optimizer_after_load.scalar(row.group_key, "test"), row.group_value);
  }
  if (row.changes_the_run) {
    EXPECT_NE(changed.params, kept.params);
  }
  // Recorded in the next checkpoint: its config is this run's.
  const std::string field = row.name.substr(row.name.find('.') + 1);
  const json& section = row.name.rfind("optimizer.", 0) == 0
                            ? changed.next_config["optimizer_config"]
                            : changed.next_config["scheduler_config"];
  const json expected_after = json::parse(row.after);
  if (field.rfind("schedulers.", 0) == 0)
    EXPECT_EQ(section["schedulers"][1]["t_max"], expected_after);
  else
    EXPECT_EQ(section[field], expected_after);
  // The kept run records the checkpoint's value.
  const json& kept_section = row.name.rfind("optimizer.", 0) == 0
                                 ? kept.next_config["optimizer_config"]
                                 : kept.next_config["scheduler_config"];
  if (field.rfind("schedulers.", 0) != 0) {
    EXPECT_EQ(kept_section[field], json::parse(row.before));
  }
}

}  // namespace

TEST(ResumeRule, EveryOptimizerSettingNamedIsTaken) {
  const std::vector<Row> rows = optimizer_rows();
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    SCOPED_TRACE(fmt::format("{} {}: {} -> {}", optim::optimizer_name(row.optimizer), row.name,
                             row.before, row.after));
    EXPECT_NO_THROW(check_row_is_taken(row, fresh_dir(fmt::format("optimizer_{}", i))));
  }
}

TEST(ResumeRule, EveryScheduleSettingNamedIsTaken) {
  std::vector<Row> rows = schedule_rows();
  // Every schedule's unit, the other way round.
  for (const sched::SchedulerConfig& base : every_schedule()) {
    if (std::holds_alternative<sched::NoSchedulerConfig>(base)) continue;
    sched::SchedulerConfig changed = base;
    const bool epoch = std::visit(
        [](auto& c) {
          if constexpr (requires { c.unit; }) {
            const bool was = c.unit == sched::StepUnit::Epoch;
            c.unit = was ? sched::StepUnit::Iteration : sched::StepUnit::Epoch;
            return was;
          }
          return false;
        },
        changed);
    rows.push_back(schedule_row("unit", epoch ? "\"epoch\"" : "\"iteration\"",
                                epoch ? "\"iteration\"" : "\"epoch\"", base, changed));
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    SCOPED_TRACE(fmt::format("{}: {} -> {}", row.name, row.before, row.after));
    EXPECT_NO_THROW(check_row_is_taken(row, fresh_dir(fmt::format("schedule_{}", i))));
  }
}

// A new lr under a schedule: the lr continues as new_lr times the schedule's factor at the step,
// as a run started with the new lr has it there (the decay so far is kept).
TEST(ResumeRule, NewLrRescalesTheSchedule) {
  using namespace sched;
  const std::vector<SchedulerConfig> schedules = {
      StepLRConfig{.step_size = 1, .gamma = 0.5},
      CosineAnnealingLRConfig{.t_max = 5},
      CosineAnnealingLRConfig{.t_max = 5, .eta_min = 0.01},
      ExponentialLRConfig{.gamma = 0.8},
      MultiStepLRConfig{.milestones = {1, 3}},
      InverseDecayConfig{.k = 0.5},
      LinearLRConfig{.start_factor = 0.25, .total_iters = 3},
      CosineAnnealingWarmRestartsConfig{.t_0 = 2},
      SequentialLRConfig{.schedulers = {LinearLRConfig{.start_factor = 0.5, .total_iters = 1},
                                        StepLRConfig{.step_size = 1, .gamma = 0.5}},
                         .milestones = {1}},
      ReduceLROnPlateauConfig{.factor = 0.5, .patience = 0, .threshold = 10.0},
  };
  for (size_t i = 0; i < schedules.size(); ++i) {
    SCOPED_TRACE(i);
    const fs::path dir = fresh_dir(fmt::format("rescale_{}", i));
    const SchedulerConfig& schedule = schedules[i];
    const std::string checkpoint =
        first_epoch(dir, optim::SGDConfig{.lr = 0.1, .momentum = 0.9}, schedule);
    // A run started with the new lr, at each epoch end.
    std::vector<double> expected;
    train::Trainer fresh(toy_model(), optim::SGDConfig{.lr = 0.3, .momentum = 0.9}, schedule,
                         quiet({.epochs = kEpochs, .batch_size = 16, .seed = 5}));
    fresh.on_epoch_end = [&](const train::EpochMetrics&) {
      expected.push_back(fresh.optimizer().lr());
    };
    fresh.fit(*toy_classes(2));

    LogCapture log;
    auto model = toy_model();
    train::Trainer resumed(
        model, optim::SGDConfig{.lr = 0.3, .momentum = 0.9}, schedule,
        quiet({.epochs = kEpochs, .batch_size = 16, .seed = 5, .resume = checkpoint}));
    EXPECT_TRUE(log.has("  changed since the checkpoint: optimizer.lr: 0.1 -> 0.3")) << log.all();
    std::vector<double> got = {resumed.optimizer().lr()};
    resumed.on_epoch_end = [&](const train::EpochMetrics&) {
      got.push_back(resumed.optimizer().lr());
    };
    resumed.fit(*toy_classes(2));
    ASSERT_EQ(got.size(), expected.size());
    // Plateau's cuts depend on the losses, which the new lr changes; its first value is the
    // checkpoint's lr, with its cut, times 3.
    const size_t compared =
        std::holds_alternative<ReduceLROnPlateauConfig>(schedule) ? 1 : got.size();
    for (size_t e = 0; e < compared; ++e)
      EXPECT_NEAR(got[e], expected[e], 1e-12 * expected[e]) << e;
  }
}

// A change the run cannot take is an error naming it, thrown before anything is loaded: the
// checkpoint is untouched and resumes with its own values afterwards.
TEST(ResumeRule, ChangesThatCannotBeTakenAreErrorsThatLoseNothing) {
  using namespace sched;
  struct Case {
    std::string name;
    optim::OptimizerConfig optimizer, changed_optimizer;
    SchedulerConfig scheduler, changed_scheduler;
    std::string expected;
  };
  const optim::SGDConfig sgd{.lr = 0.1, .momentum = 0.9};
  const CyclicLRConfig cyclic{.base_lr = 0.01, .max_lr = 0.1, .step_size_up = 4};
  const std::vector<Case> cases = {
      {"optimizer type", sgd, optim::AdamConfig{}, NoSchedulerConfig{}, NoSchedulerConfig{},
       "was written by a run with the SGD optimizer; this run uses Adam"},
      {"schedule type", sgd, sgd, StepLRConfig{.step_size = 1}, CosineAnnealingLRConfig{.t_max = 3},
       "was written by a run with the StepLR schedule; this run uses CosineAnnealingLR"},
      {"sgd momentum to 0", sgd, optim::SGDConfig{.lr = 0.1}, NoSchedulerConfig{},
       NoSchedulerConfig{}, "optimizer.momentum cannot change on resume"},
      {"sgd momentum from 0, with another lr", optim::SGDConfig{.lr = 0.1},
       optim::SGDConfig{.lr = 0.2, .momentum = 0.9}, NoSchedulerConfig{}, NoSchedulerConfig{},
       "': optimizer.momentum cannot change on resume"},
      {"momentum cycled by a schedule of SequentialLR", sgd,
       optim::SGDConfig{.lr = 0.1, .momentum = 0.5},
       SequentialLRConfig{.schedulers = {LinearLRConfig{.total_iters = 1}, cyclic},
                          .milestones = {1}},
       SequentialLRConfig{.schedulers = {LinearLRConfig{.total_iters = 1}, cyclic},
                          .milestones = {1}},
       "the SequentialLR schedule cycles the optimizer's momentum"},
      {"sgd momentum from 0", optim::SGDConfig{.lr = 0.1}, sgd, NoSchedulerConfig{},
       NoSchedulerConfig{}, "optimizer.momentum cannot change on resume"},
      {"rmsprop centered", optim::RMSpropConfig{}, optim::RMSpropConfig{.centered = true},
       NoSchedulerConfig{}, NoSchedulerConfig{}, "optimizer.centered cannot change on resume"},
      {"adam amsgrad", optim::AdamConfig{}, optim::AdamConfig{.amsgrad = true}, NoSchedulerConfig{},
       NoSchedulerConfig{}, "optimizer.amsgrad cannot change on resume"},
      {"rprop lr", optim::RpropConfig{}, optim::RpropConfig{.lr = 0.02}, NoSchedulerConfig{},
       NoSchedulerConfig{}, "optimizer.lr cannot change on resume: Rprop's lr"},
      {"adamw amsgrad off", optim::AdamWConfig{.amsgrad = true}, optim::AdamWConfig{},
       NoSchedulerConfig{}, NoSchedulerConfig{}, "optimizer.amsgrad cannot change on resume"},
      {"adagrad initial_accumulator_value", optim::AdagradConfig{},
       optim::AdagradConfig{.initial_accumulator_value = 0.5}, NoSchedulerConfig{},
       NoSchedulerConfig{}, "optimizer.initial_accumulator_value cannot change on resume"},
      {"lr under CyclicLR", sgd, optim::SGDConfig{.lr = 0.2, .momentum = 0.9}, cyclic, cyclic,
       "CyclicLR sets the lr from its base_lr and max_lr"},
      {"momentum cycled by CyclicLR", sgd, optim::SGDConfig{.lr = 0.1, .momentum = 0.5}, cyclic,
       cyclic, "the CyclicLR schedule cycles the optimizer's momentum"},
      {"warm restarts' t_0", sgd, sgd, CosineAnnealingWarmRestartsConfig{.t_0 = 2},
       CosineAnnealingWarmRestartsConfig{.t_0 = 3}, "scheduler.t_0 cannot change on resume"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.name);
    const fs::path dir = fresh_dir(fmt::format("refused_{}", i));
    const std::string checkpoint = first_epoch(dir, c.optimizer, c.scheduler);
    const std::string bytes = file_bytes(checkpoint);
    nabla::testing::expect_error(
        [&] {
          train::Trainer(toy_model(), c.changed_optimizer, c.changed_scheduler,
                         quiet({.epochs = kEpochs,
                                .batch_size = 16,
                                .seed = 5,
                                .checkpoint_dir = (dir / "refused").string(),
                                .resume = checkpoint}));
        },
        c.expected);
    EXPECT_EQ(file_bytes(checkpoint), bytes);
    EXPECT_FALSE(fs::exists(dir / "refused" / train::checkpoint_filename(12)));
    // The checkpoint resumes with its own values.
    EXPECT_NO_THROW(resume(checkpoint, dir / "again", c.optimizer, c.scheduler));
  }
}

// With parameter groups: a new weight_decay is taken by the groups that take the config's (the
// others keep their own), and a new lr rescales every group's schedule.
TEST(ResumeRule, ParameterGroupsTakeTheNewValuesTheirConfigGives) {
  const fs::path dir = fresh_dir("groups");
  const auto data = toy_classes(2);
  auto groups = [](nn::Module& model) {
    return optim::weight_decay_groups(model.named_parameters());  // biases: weight decay 0
  };
  const optim::AdamWConfig adamw{.lr = 0.01, .weight_decay = 0.05};
  const sched::StepLRConfig step{.step_size = 1, .gamma = 0.5};
  auto first_model = toy_model();
  train::Trainer first(first_model, groups(*first_model), adamw, step,
                       quiet({.epochs = kEpochs,
                              .batch_size = 16,
                              .seed = 5,
                              .checkpoint_dir = (dir / "first").string(),
                              .keep_last = 0}));
  first.fit(*data);
  const std::string checkpoint = (dir / "first" / train::checkpoint_filename(6)).string();

  auto model = toy_model(99);
  train::Trainer resumed(
      model, groups(*model), optim::AdamWConfig{.lr = 0.02, .weight_decay = 0.1}, step,
      quiet({.epochs = kEpochs, .batch_size = 16, .seed = 5, .resume = checkpoint}));
  const State s = resumed.optimizer().state_dict();
  EXPECT_EQ(s.scalar("group.0.weight_decay", "test"), 0.1);
  EXPECT_EQ(s.scalar("group.1.weight_decay", "test"), 0.0);
  // After epoch 1 of StepLR(1, 0.5): half the new base, in both groups.
  EXPECT_DOUBLE_EQ(resumed.optimizer().group_lr(0), 0.01);
  EXPECT_DOUBLE_EQ(resumed.optimizer().group_lr(1), 0.01);

  // Nothing named: bit for bit.
  auto again = toy_model(99);
  train::Trainer same(
      again, groups(*again), adamw, step,
      quiet({.epochs = kEpochs, .batch_size = 16, .seed = 5, .resume = checkpoint}));
  same.fit(*data);
  EXPECT_EQ(flat_params(*again), flat_params(*first_model));
}
