// sched: learning-rate schedules. One config struct per schedule (PyTorch's names, argument order
// and defaults; our own fields after them), a std::variant of them all, make_scheduler() to build
// one on an optimizer, and the Scheduler interface the trainer steps.
//
// Semantics follow torch.optim.lr_scheduler (1.13): a schedule sets the learning rate when it is
// built (the "initial step", last_step() == 0), and step() advances by one epoch or iteration.
// Where PyTorch computes the next lr from the current one (its "chainable" form, e.g. the cosine
// recursion), so do we, so the values match PyTorch's own to the last bits.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nabla/fields.h"
#include "nabla/optim/optimizer.h"
#include "nabla/state.h"

namespace nabla::sched {

// What one step() means; the trainer reads it to step after every epoch or every batch. Every
// schedule steps per epoch by default except CyclicLR and OneCycleLR, which step per batch, as
// PyTorch programs step them (per epoch they would barely move).
enum class StepUnit { Epoch, Iteration };
constexpr auto enum_names(StepUnit) {
  return std::array{EnumName<StepUnit>{"epoch", StepUnit::Epoch},
                    EnumName<StepUnit>{"iteration", StepUnit::Iteration}};
}

// A value given once for every parameter group, or once per group (PyTorch's "float or list"):
// `.max_lr = 0.1` or `.max_lr = {0.1, 0.01}`.
struct PerGroup {
  std::vector<double> values;
  PerGroup() = default;
  PerGroup(double value) : values{value} {}  // NOLINT: implicit on purpose
  PerGroup(std::initializer_list<double> per_group) : values(per_group) {}
};

// The field every schedule has.
template <typename C>
constexpr auto unit_field() {
  return field("unit", &C::unit, "what one step of the schedule is: an epoch or an iteration");
}

// Marks a hyperparameter that has no default in PyTorch and must be set.
inline constexpr double kRequired = std::numeric_limits<double>::quiet_NaN();

// lr = lr0 * gamma^t
struct ExponentialLRConfig {
  double gamma = kRequired;
  StepUnit unit = StepUnit::Epoch;
};
constexpr auto fields(const ExponentialLRConfig*) {
  using C = ExponentialLRConfig;
  return std::tuple{field("gamma", &C::gamma, "the lr's factor per step", above(0)),
                    unit_field<C>()};
}

// lr = lr0 * exp(-k t): the lecture's exponential decay (ExponentialLR with gamma = exp(-k)).
struct ExponentialDecayConfig {
  double k = kRequired;
  StepUnit unit = StepUnit::Epoch;
};
constexpr auto fields(const ExponentialDecayConfig*) {
  using C = ExponentialDecayConfig;
  return std::tuple{field("k", &C::k, "the decay rate", at_least(0)), unit_field<C>()};
}

// lr = lr0 * gamma^floor(t / step_size); gamma = 0.5 halves the rate every step_size steps.
struct StepLRConfig {
  int64_t step_size = 0;  // required, > 0
  double gamma = 0.1;
  StepUnit unit = StepUnit::Epoch;
};
constexpr auto fields(const StepLRConfig*) {
  using C = StepLRConfig;
  return std::tuple{field("step_size", &C::step_size, "steps between decays", at_least(1)),
                    field("gamma", &C::gamma, "the lr's factor at each decay", above(0)),
                    unit_field<C>()};
}

// lr = lr0 * gamma^(number of milestones <= t); a milestone listed twice counts twice.
struct MultiStepLRConfig {
  std::vector<int64_t> milestones;
  double gamma = 0.1;
  StepUnit unit = StepUnit::Epoch;
};
constexpr auto fields(const MultiStepLRConfig*) {
  using C = MultiStepLRConfig;
  return std::tuple{field("milestones", &C::milestones, "the steps that decay", at_least(0)),
                    field("gamma", &C::gamma, "the lr's factor at each milestone", above(0)),
                    unit_field<C>()};
}

// lr = lr0 / (1 + k t): the lecture's inverse decay.
struct InverseDecayConfig {
  double k = kRequired;
  StepUnit unit = StepUnit::Epoch;
};
constexpr auto fields(const InverseDecayConfig*) {
  using C = InverseDecayConfig;
  return std::tuple{field("k", &C::k, "the decay rate", at_least(0)), unit_field<C>()};
}

enum class CyclicMode { Triangular, Triangular2, ExpRange };
constexpr auto enum_names(CyclicMode) {
  using E = EnumName<CyclicMode>;
  return std::array{E{"triangular", CyclicMode::Triangular},
                    E{"triangular2", CyclicMode::Triangular2},
                    E{"exp_range", CyclicMode::ExpRange}};
}
enum class CyclicScaleMode { Cycle, Iterations };
constexpr auto enum_names(CyclicScaleMode) {
  using E = EnumName<CyclicScaleMode>;
  return std::array{E{"cycle", CyclicScaleMode::Cycle},
                    E{"iterations", CyclicScaleMode::Iterations}};
}

// Cyclical learning rates (Smith 2017): lr moves between base_lr and max_lr, up in step_size_up
// steps and down in step_size_down (default: step_size_up). The amplitude is scaled per cycle by
// 1 (Triangular), 1/2^(cycle-1) (Triangular2) or per step by gamma^t (ExpRange). A custom
// scale_fn replaces the mode; scale_mode then says whether it gets the cycle or the step.
// With cycle_momentum the optimizer's momentum (SGD momentum, Adam beta1) moves inversely,
// between max_momentum and base_momentum. The optimizer's lr is replaced by base_lr.
struct CyclicLRConfig {
  PerGroup base_lr;  // required
  PerGroup max_lr;   // required
  int64_t step_size_up = 2000;
  std::optional<int64_t> step_size_down;
  CyclicMode mode = CyclicMode::Triangular;
  double gamma = 1.0;
  std::function<double(double)> scale_fn;
  CyclicScaleMode scale_mode = CyclicScaleMode::Cycle;
  bool cycle_momentum = true;
  PerGroup base_momentum = 0.8;
  PerGroup max_momentum = 0.9;
  StepUnit unit = StepUnit::Iteration;
};
constexpr auto fields(const CyclicLRConfig*) {
  using C = CyclicLRConfig;
  return std::tuple{field("base_lr", &C::base_lr, "the lowest lr", at_least(0)),
                    field("max_lr", &C::max_lr, "the highest lr", at_least(0)),
                    field("step_size_up", &C::step_size_up,
                          "steps from the lowest lr to the highest", at_least(1)),
                    field("step_size_down", &C::step_size_down,
                          "steps back down (default: step_size_up)", at_least(0)),
                    field("mode", &C::mode, "how the amplitude shrinks"),
                    field("gamma", &C::gamma, "exp_range's factor per step", above(0)),
                    field("scale_mode", &C::scale_mode, "what a custom scale_fn is given"),
                    field("cycle_momentum", &C::cycle_momentum, "move the momentum against the lr"),
                    field("base_momentum", &C::base_momentum, "the lowest momentum", at_least(0)),
                    field("max_momentum", &C::max_momentum, "the highest momentum", at_least(0)),
                    unit_field<C>()};
}

// lr = lr0 * lr_lambda(t) for every parameter group, or lr0_g * lr_lambdas[g](t) with one function
// per group (PyTorch's lr_lambda=[lambda1, lambda2]): give one of the two. The functions are code,
// not state: pass the same ones when resuming.
struct LambdaLRConfig {
  std::function<double(int64_t)> lr_lambda;
  std::vector<std::function<double(int64_t)>> lr_lambdas;
  StepUnit unit = StepUnit::Epoch;
};
constexpr auto fields(const LambdaLRConfig*) {
  using C = LambdaLRConfig;
  return std::tuple{unit_field<C>()};  // the functions are code, not fields
}

// lr = eta_min + (lr0 - eta_min) (1 + cos(pi t / t_max)) / 2, computed recursively as PyTorch
// does (so past t_max it rises again with period 2 t_max).
struct CosineAnnealingLRConfig {
  int64_t t_max = 0;  // required, > 0
  double eta_min = 0.0;
  StepUnit unit = StepUnit::Epoch;
};
constexpr auto fields(const CosineAnnealingLRConfig*) {
  using C = CosineAnnealingLRConfig;
  return std::tuple{field("t_max", &C::t_max, "steps from the lr down to eta_min", at_least(1)),
                    field("eta_min", &C::eta_min, "the lowest lr", at_least(0)), unit_field<C>()};
}

// SGDR (Loshchilov & Hutter 2017): cosine from lr0 down towards eta_min over t_i steps, then a
// restart; t_i starts at t_0 and is multiplied by t_mult at every restart.
struct CosineAnnealingWarmRestartsConfig {
  int64_t t_0 = 0;  // required, > 0
  int64_t t_mult = 1;
  double eta_min = 0.0;
  StepUnit unit = StepUnit::Epoch;
};
constexpr auto fields(const CosineAnnealingWarmRestartsConfig*) {
  using C = CosineAnnealingWarmRestartsConfig;
  return std::tuple{
      field("t_0", &C::t_0, "steps to the first restart", at_least(1)),
      field("t_mult", &C::t_mult, "each period's factor over the one before", at_least(1)),
      field("eta_min", &C::eta_min, "the lowest lr", at_least(0)), unit_field<C>()};
}

// lr = lr0 * factor, the factor moving linearly from start_factor to end_factor over total_iters
// steps, then staying: a warm-up when start_factor < end_factor.
struct LinearLRConfig {
  double start_factor = 1.0 / 3.0;
  double end_factor = 1.0;
  int64_t total_iters = 5;
  StepUnit unit = StepUnit::Epoch;
};
constexpr auto fields(const LinearLRConfig*) {
  using C = LinearLRConfig;
  return std::tuple{
      field("start_factor", &C::start_factor, "the lr's factor at the start",
            Bounds{.min = 0, .max = 1, .min_open = true}),
      field("end_factor", &C::end_factor, "the lr's factor at the end", closed(0, 1)),
      field("total_iters", &C::total_iters, "steps from start_factor to end_factor", at_least(1)),
      unit_field<C>()};
}

enum class AnnealStrategy { Cos, Linear };
constexpr auto enum_names(AnnealStrategy) {
  using E = EnumName<AnnealStrategy>;
  return std::array{E{"cos", AnnealStrategy::Cos}, E{"linear", AnnealStrategy::Linear}};
}

// 1cycle (Smith & Topin 2018): from max_lr / div_factor up to max_lr over pct_start of
// total_steps, then down to max_lr / (div_factor * final_div_factor); with three_phase, back to
// the start first and then down. Momentum moves inversely between max_ and base_momentum.
// total_steps, or else epochs * steps_per_epoch, is the number of steps; one more is an error.
struct OneCycleLRConfig {
  PerGroup max_lr;  // required
  std::optional<int64_t> total_steps;
  std::optional<int64_t> epochs;
  std::optional<int64_t> steps_per_epoch;
  double pct_start = 0.3;
  AnnealStrategy anneal_strategy = AnnealStrategy::Cos;
  bool cycle_momentum = true;
  PerGroup base_momentum = 0.85;
  PerGroup max_momentum = 0.95;
  double div_factor = 25.0;
  double final_div_factor = 1e4;
  bool three_phase = false;
  StepUnit unit = StepUnit::Iteration;
};
constexpr auto fields(const OneCycleLRConfig*) {
  using C = OneCycleLRConfig;
  return std::tuple{
      field("max_lr", &C::max_lr, "the highest lr", at_least(0)),
      field("total_steps", &C::total_steps, "the cycle's length in steps", at_least(1)),
      field("epochs", &C::epochs, "with steps_per_epoch, instead of total_steps", at_least(1)),
      field("steps_per_epoch", &C::steps_per_epoch, "with epochs, instead of total_steps",
            at_least(1)),
      field("pct_start", &C::pct_start, "the fraction of the cycle spent rising", closed(0, 1)),
      field("anneal_strategy", &C::anneal_strategy, "the shape of the rise and fall"),
      field("cycle_momentum", &C::cycle_momentum, "move the momentum against the lr"),
      field("base_momentum", &C::base_momentum, "the lowest momentum", at_least(0)),
      field("max_momentum", &C::max_momentum, "the highest momentum", at_least(0)),
      field("div_factor", &C::div_factor, "the first lr is max_lr / div_factor", above(0)),
      field("final_div_factor", &C::final_div_factor, "the last lr is the first / final_div_factor",
            above(0)),
      field("three_phase", &C::three_phase, "fall back to the first lr before annealing"),
      unit_field<C>()};
}

enum class PlateauMode { Min, Max };
constexpr auto enum_names(PlateauMode) {
  using E = EnumName<PlateauMode>;
  return std::array{E{"min", PlateauMode::Min}, E{"max", PlateauMode::Max}};
}
enum class ThresholdMode { Rel, Abs };
constexpr auto enum_names(ThresholdMode) {
  using E = EnumName<ThresholdMode>;
  return std::array{E{"rel", ThresholdMode::Rel}, E{"abs", ThresholdMode::Abs}};
}

// Multiplies the lr by factor when the metric passed to step(metric) has not improved for more
// than `patience` steps (improved: better than best by threshold, relative or absolute), then
// waits `cooldown` steps. Never below min_lr; changes smaller than eps are skipped.
struct ReduceLROnPlateauConfig {
  PlateauMode mode = PlateauMode::Min;
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;
  ThresholdMode threshold_mode = ThresholdMode::Rel;
  int64_t cooldown = 0;
  PerGroup min_lr = 0.0;
  double eps = 1e-8;
  StepUnit unit = StepUnit::Epoch;
};
constexpr auto fields(const ReduceLROnPlateauConfig*) {
  using C = ReduceLROnPlateauConfig;
  return std::tuple{
      field("mode", &C::mode, "whether a lower (min) or a higher (max) metric is better"),
      field("factor", &C::factor, "the lr's factor on a plateau", half_open(0, 1)),
      field("patience", &C::patience, "steps without improvement before a decay", at_least(0)),
      field("threshold", &C::threshold, "the least change that counts as improvement", at_least(0)),
      field("threshold_mode", &C::threshold_mode, "the threshold relative or absolute"),
      field("cooldown", &C::cooldown, "steps to wait after a decay", at_least(0)),
      field("min_lr", &C::min_lr, "the lowest lr", at_least(0)),
      field("eps", &C::eps, "a smaller change of the lr is skipped", at_least(0)),
      unit_field<C>()};
}

// The schedule that never changes the learning rate.
struct NoSchedulerConfig {};

struct SequentialLRConfig;

using SchedulerConfig =
    std::variant<NoSchedulerConfig, ExponentialLRConfig, ExponentialDecayConfig, StepLRConfig,
                 MultiStepLRConfig, InverseDecayConfig, CyclicLRConfig, LambdaLRConfig,
                 CosineAnnealingLRConfig, CosineAnnealingWarmRestartsConfig, LinearLRConfig,
                 OneCycleLRConfig, ReduceLROnPlateauConfig, SequentialLRConfig>;

// Runs schedulers[0] until milestones[0], then schedulers[1] from its own step 0, and so on; a
// warm-up followed by a decay, e.g. {.schedulers = {LinearLRConfig{...}, CosineAnnealingLRConfig{
// ...}}, .milestones = {5}}. The children's units are ignored; this config's unit counts.
// ReduceLROnPlateau and SequentialLR cannot be children.
struct SequentialLRConfig {
  std::vector<SchedulerConfig> schedulers;
  std::vector<int64_t> milestones;  // one fewer than schedulers, increasing
  StepUnit unit = StepUnit::Epoch;
};
constexpr auto fields(const SequentialLRConfig*) {
  using C = SequentialLRConfig;
  // The schedules are configs of their own, recorded and checked as such.
  return std::tuple{
      field("milestones", &C::milestones, "the steps where the next schedule starts", at_least(0)),
      unit_field<C>()};
}
constexpr auto fields(const NoSchedulerConfig*) {
  return std::tuple{};
}

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Advances by one epoch or iteration (see unit()) and sets the optimizer's learning rates.
  void step();
  // The same with a validation metric; ReduceLROnPlateau needs it, the others ignore it.
  void step(double metric);

  // Learning rate of group 0 / of every group, as last set by this schedule.
  double lr() const { return last_lrs_.at(0); }
  const std::vector<double>& lrs() const { return last_lrs_; }
  // Steps taken since the initial step (PyTorch's last_epoch).
  int64_t last_step() const { return last_step_; }
  StepUnit unit() const { return unit_; }
  // "StepLR", "CosineAnnealingLR", ...: saved with the state and checked on load.
  virtual std::string type_name() const = 0;

  // Every counter and internal value, plus the learning rates (and momenta, where the schedule
  // cycles them) it has set. Loading restores them on the optimizer too, so a scheduler built
  // from the same config on a fresh optimizer continues exactly where the saved one stopped.
  State state_dict() const;
  void load_state_dict(const State& state);

  // A resumed run's new base lr, `to` where the schedule was built on `from`: scales the
  // schedule's base lrs by to / from and sets the lrs it gives at its current step, so the
  // schedule continues as if it had started from the new base (PyTorch's base_lrs): the decay
  // applied so far is kept. A schedule without a closed form (ReduceLROnPlateau, none) scales the
  // current lrs; an lr equal to `from` becomes `to` exactly. CyclicLR and OneCycleLR take their
  // lrs from their own config, not from the optimizer's: for them this is an error.
  virtual void rescale(double from, double to);

 protected:
  Scheduler(optim::Optimizer& optimizer, StepUnit unit);

  virtual void advance(std::optional<double> metric) = 0;
  virtual void save(State& state) const {}
  virtual void load(const State& state) {}
  virtual bool cycles_momentum() const { return false; }
  // Sets every group's lr on the optimizer and remembers them as lrs().
  void set_lrs(const std::vector<double>& lrs);

  optim::Optimizer& optimizer_;
  StepUnit unit_;
  int64_t last_step_ = -1;
  std::vector<double> last_lrs_;
};

// Builds the schedule and applies its initial step. Throws nabla::Error naming the field of an
// invalid config.
std::unique_ptr<Scheduler> make_scheduler(optim::Optimizer& optimizer,
                                          const SchedulerConfig& config);

// The config with PyTorch's defaults for a name: "none", "exponential", "exponential_decay",
// "step", "multistep", "inverse_decay", "cyclic", "lambda", "cosine", "cosine_warm_restarts",
// "linear", "onecycle", "plateau", "sequential"; PyTorch's class names ("StepLR") also work.
// Required fields (gamma, step_size, ...) are then still to be set.
SchedulerConfig scheduler_from_name(std::string_view name);
// The schedule's names: PyTorch's ("StepLR"; "NoScheduler" for none), as Scheduler::type_name()
// and checkpoints give it, and the short one configs use ("step", "exponential_decay", "none").
std::string scheduler_type(const SchedulerConfig& config);
std::string scheduler_short_name(const SchedulerConfig& config);

}  // namespace nabla::sched
