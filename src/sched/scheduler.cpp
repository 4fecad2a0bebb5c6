// Scheduler and LRScheduler, the validation and state helpers, make_scheduler and
// scheduler_from_name.
#include <algorithm>
#include <cctype>

#include "sched/lr_scheduler.h"

namespace nabla::sched {

Scheduler::Scheduler(optim::Optimizer& optimizer, StepUnit unit)
    : optimizer_(optimizer), unit_(unit) {
  NABLA_CHECK(optimizer.num_groups() > 0, "scheduler: the optimizer has no parameter groups");
  for (int64_t g = 0; g < optimizer.num_groups(); ++g) last_lrs_.push_back(optimizer.group_lr(g));
}

void Scheduler::step() {
  advance(std::nullopt);
}
void Scheduler::step(double metric) {
  advance(metric);
}

void Scheduler::set_lrs(const std::vector<double>& lrs) {
  NABLA_ASSERT(static_cast<int64_t>(lrs.size()) == optimizer_.num_groups(),
               "{}: {} lrs for {} groups", type_name(), lrs.size(), optimizer_.num_groups());
  for (int64_t g = 0; g < optimizer_.num_groups(); ++g) optimizer_.set_group_lr(g, lrs[g]);
  last_lrs_ = lrs;
}

State Scheduler::state_dict() const {
  State state;
  state.strings["type"] = type_name();
  state.scalars["last_step"] = static_cast<double>(last_step_);
  detail::save_vector(state, "lr", last_lrs_);
  if (cycles_momentum()) {
    std::vector<double> momenta;
    for (int64_t g = 0; g < optimizer_.num_groups(); ++g)
      momenta.push_back(optimizer_.group_momentum(g).value());
    detail::save_vector(state, "momentum", momenta);
  }
  save(state);
  return state;
}

void Scheduler::load_state_dict(const State& state) {
  const std::string name = type_name();
  const std::string& saved = state.string("type", name.c_str());
  NABLA_CHECK(saved == name, "{}: cannot load the saved state of a {} schedule", name, saved);
  const size_t groups = static_cast<size_t>(optimizer_.num_groups());
  const auto lrs = detail::load_vector(state, "lr", groups, name.c_str());
  const int64_t last_step = state.count("last_step", name.c_str(), -1);
  std::vector<double> momenta;
  if (cycles_momentum()) momenta = detail::load_vector(state, "momentum", groups, name.c_str());
  load(state);
  // After the schedule's own state: SequentialLR's children set lrs that are not the last ones.
  last_step_ = last_step;
  set_lrs(lrs);
  for (size_t g = 0; g < momenta.size(); ++g) optimizer_.set_group_momentum(g, momenta[g]);
}

void Scheduler::rescale(double from, double to) {
  std::vector<double> lrs = last_lrs_;
  for (double& lr : lrs) lr = lr / from * to;
  set_lrs(lrs);
}

namespace detail {

const std::vector<double>& InitialLrs::get_or_set(const optim::Optimizer& optimizer) {
  if (!lrs) {
    lrs.emplace();
    for (int64_t g = 0; g < optimizer.num_groups(); ++g) lrs->push_back(optimizer.group_lr(g));
  }
  return *lrs;
}

void LRScheduler::initial_step() {
  last_step_ = -1;
  advance(std::nullopt);
}

void LRScheduler::restart() {
  last_step_ = 0;
  auto closed = closed_form_lrs();
  set_lrs(closed ? *closed : chainable_lrs());
}

void LRScheduler::rescale(double from, double to) {
  for (double& base : base_lrs_) base = base / from * to;
  if (auto closed = closed_form_lrs()) return set_lrs(*closed);
  std::vector<double> lrs = current_lrs();
  for (double& lr : lrs) lr = lr / from * to;
  set_lrs(lrs);
}

void LRScheduler::advance(std::optional<double>) {
  ++last_step_;
  set_lrs(chainable_lrs());
}

std::vector<double> LRScheduler::current_lrs() const {
  std::vector<double> lrs;
  for (int64_t g = 0; g < num_groups(); ++g) lrs.push_back(optimizer_.group_lr(g));
  return lrs;
}

void LRScheduler::save(State& state) const {
  save_vector(state, "base_lr", base_lrs_);
}

void LRScheduler::load(const State& state) {
  base_lrs_ = load_vector(state, "base_lr", base_lrs_.size(), type_name().c_str());
}

std::vector<double> per_group(const PerGroup& value, int64_t num_groups, const char* schedule,
                              const char* field) {
  const auto& v = value.values;
  NABLA_CHECK(!v.empty(), "{}: {} is required", schedule, field);
  NABLA_CHECK(v.size() == 1 || static_cast<int64_t>(v.size()) == num_groups,
              "{}: {} has {} values but the optimizer has {} parameter groups", schedule, field,
              v.size(), num_groups);
  for (double x : v)
    NABLA_CHECK(std::isfinite(x), "{}: {} must be finite (got {})", schedule, field, x);
  return v.size() == 1 ? std::vector<double>(num_groups, v[0]) : v;
}

void save_vector(State& state, const std::string& key, const std::vector<double>& values) {
  state.scalars[key + ".size"] = static_cast<double>(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    state.scalars[key + "." + std::to_string(i)] = values[i];
}

std::vector<double> load_vector(const State& state, const std::string& key, size_t size,
                                const char* what) {
  const double saved = state.scalar(key + ".size", what);
  NABLA_CHECK(saved == static_cast<double>(size),
              "{}: the saved state has {} values of '{}', expected {} (one per parameter group)",
              what, saved, key, size);
  std::vector<double> values;
  for (size_t i = 0; i < size; ++i)
    values.push_back(state.finite(key + "." + std::to_string(i), what, 0.0));
  return values;
}

}  // namespace detail

std::unique_ptr<Scheduler> make_scheduler(optim::Optimizer& optimizer,
                                          const SchedulerConfig& config) {
  detail::InitialLrs initial;
  return std::visit(
      [&](const auto& c) -> std::unique_ptr<Scheduler> {
        check_fields(c, scheduler_type(config).c_str());
        return detail::make(optimizer, c, initial);
      },
      config);
}

namespace {

// Each schedule's short name and PyTorch's, in the order of the SchedulerConfig variant.
struct ScheduleName {
  const char* name;
  const char* torch_name;
};
constexpr ScheduleName kScheduleNames[] = {
    {"none", "NoScheduler"},
    {"exponential", "ExponentialLR"},
    {"exponential_decay", "ExponentialDecay"},
    {"step", "StepLR"},
    {"multistep", "MultiStepLR"},
    {"inverse_decay", "InverseDecay"},
    {"cyclic", "CyclicLR"},
    {"lambda", "LambdaLR"},
    {"cosine", "CosineAnnealingLR"},
    {"cosine_warm_restarts", "CosineAnnealingWarmRestarts"},
    {"linear", "LinearLR"},
    {"onecycle", "OneCycleLR"},
    {"plateau", "ReduceLROnPlateau"},
    {"sequential", "SequentialLR"},
};
static_assert(std::size(kScheduleNames) == std::variant_size_v<SchedulerConfig>,
              "a schedule without a name in kScheduleNames");

template <size_t... I>
SchedulerConfig default_config(size_t index, std::index_sequence<I...>) {
  SchedulerConfig out;
  ((index == I ? (out = std::variant_alternative_t<I, SchedulerConfig>{}, 0) : 0), ...);
  return out;
}

}  // namespace

std::string scheduler_type(const SchedulerConfig& config) {
  return kScheduleNames[config.index()].torch_name;
}

std::string scheduler_short_name(const SchedulerConfig& config) {
  return kScheduleNames[config.index()].name;
}

SchedulerConfig scheduler_from_name(std::string_view name) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  std::string names;
  for (size_t i = 0; i < std::size(kScheduleNames); ++i) {
    const ScheduleName& e = kScheduleNames[i];
    if (lower(name) == e.name || lower(name) == lower(e.torch_name))
      return default_config(i, std::make_index_sequence<std::variant_size_v<SchedulerConfig>>{});
    names += names.empty() ? e.name : fmt::format(", {}", e.name);
  }
  NABLA_FAIL("scheduler: unknown schedule '{}' (known: {})", name, names);
}

}  // namespace nabla::sched
