// The optimizer's and the schedule's configs as recorded in a checkpoint (config_record.h).
#include "train/config_record.h"

#include <cmath>
#include <type_traits>

namespace nabla::train::detail {

using nlohmann::json;

namespace {

json record(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}
json record(bool v) {
  return v;
}
json record(int64_t v) {
  return v;
}
json record(const optim::Betas& v) {
  return json::array({record(v[0]), record(v[1])});
}
json record(const std::vector<int64_t>& v) {
  return v;
}
json record(const sched::PerGroup& v) {
  json out = json::array();
  for (double x : v.values) out.push_back(record(x));
  return out;
}
json record(const std::optional<int64_t>& v) {
  return v ? json(*v) : json(nullptr);
}
template <typename R, typename... A>
json record(const std::function<R(A...)>& f) {
  return f ? json("function") : json(nullptr);
}
template <typename R, typename... A>
json record(const std::vector<std::function<R(A...)>>& v) {
  json out = json::array();
  for (const auto& f : v) out.push_back(record(f));
  return out;
}
json record(sched::StepUnit v) {
  return v == sched::StepUnit::Epoch ? "epoch" : "iteration";
}
json record(sched::CyclicMode v) {
  switch (v) {
    case sched::CyclicMode::Triangular:
      return "triangular";
    case sched::CyclicMode::Triangular2:
      return "triangular2";
    case sched::CyclicMode::ExpRange:
      return "exp_range";
  }
  return "?";
}
json record(sched::CyclicScaleMode v) {
  return v == sched::CyclicScaleMode::Cycle ? "cycle" : "iterations";
}
json record(sched::AnnealStrategy v) {
  return v == sched::AnnealStrategy::Cos ? "cos" : "linear";
}
json record(sched::PlateauMode v) {
  return v == sched::PlateauMode::Min ? "min" : "max";
}
json record(sched::ThresholdMode v) {
  return v == sched::ThresholdMode::Rel ? "rel" : "abs";
}
json record(const std::vector<sched::SchedulerConfig>& v) {
  json out = json::array();
  for (const sched::SchedulerConfig& c : v) out.push_back(scheduler_record(c));
  return out;
}

#define NABLA_RECORD(field) \
  if constexpr (requires { c.field; }) j[#field] = record(c.field);

template <typename C>
void optimizer_fields(const C& c, json& j) {
  NABLA_RECORD(lr)
  NABLA_RECORD(momentum)
  NABLA_RECORD(dampening)
  NABLA_RECORD(weight_decay)
  NABLA_RECORD(nesterov)
  NABLA_RECORD(classical)
  NABLA_RECORD(beta)
  NABLA_RECORD(min_gain)
  NABLA_RECORD(max_gain)
  NABLA_RECORD(alpha)
  NABLA_RECORD(eps)
  NABLA_RECORD(centered)
  NABLA_RECORD(eps_inside_sqrt)
  NABLA_RECORD(betas)
  NABLA_RECORD(amsgrad)
  NABLA_RECORD(bias_correction)
  NABLA_RECORD(lr_decay)
  NABLA_RECORD(initial_accumulator_value)
  NABLA_RECORD(rho)
  NABLA_RECORD(momentum_decay)
  NABLA_RECORD(eps_switch)
  NABLA_RECORD(etas)
  NABLA_RECORD(step_sizes)
  NABLA_RECORD(skip_nonfinite)
}

template <typename C>
void scheduler_fields(const C& c, json& j) {
  NABLA_RECORD(gamma)
  NABLA_RECORD(k)
  NABLA_RECORD(step_size)
  NABLA_RECORD(milestones)
  NABLA_RECORD(base_lr)
  NABLA_RECORD(max_lr)
  NABLA_RECORD(step_size_up)
  NABLA_RECORD(step_size_down)
  NABLA_RECORD(mode)
  NABLA_RECORD(scale_fn)
  NABLA_RECORD(scale_mode)
  NABLA_RECORD(cycle_momentum)
  NABLA_RECORD(base_momentum)
  NABLA_RECORD(max_momentum)
  NABLA_RECORD(lr_lambda)
  NABLA_RECORD(lr_lambdas)
  NABLA_RECORD(t_max)
  NABLA_RECORD(eta_min)
  NABLA_RECORD(t_0)
  NABLA_RECORD(t_mult)
  NABLA_RECORD(start_factor)
  NABLA_RECORD(end_factor)
  NABLA_RECORD(total_iters)
  NABLA_RECORD(total_steps)
  NABLA_RECORD(epochs)
  NABLA_RECORD(steps_per_epoch)
  NABLA_RECORD(pct_start)
  NABLA_RECORD(anneal_strategy)
  NABLA_RECORD(div_factor)
  NABLA_RECORD(final_div_factor)
  NABLA_RECORD(three_phase)
  NABLA_RECORD(factor)
  NABLA_RECORD(patience)
  NABLA_RECORD(threshold)
  NABLA_RECORD(threshold_mode)
  NABLA_RECORD(cooldown)
  NABLA_RECORD(min_lr)
  NABLA_RECORD(eps)
  NABLA_RECORD(schedulers)
  NABLA_RECORD(unit)
}
#undef NABLA_RECORD

}  // namespace

json optimizer_record(const optim::OptimizerConfig& config) {
  json j = {{"type", optim::optimizer_name(config)}};
  std::visit([&](const auto& c) { optimizer_fields(c, j); }, config);
  return j;
}

std::string scheduler_type(const sched::SchedulerConfig& config) {
  static const char* const names[] = {"NoScheduler",       "ExponentialLR",
                                      "ExponentialDecay",  "StepLR",
                                      "MultiStepLR",       "InverseDecay",
                                      "CyclicLR",          "LambdaLR",
                                      "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
                                      "LinearLR",          "OneCycleLR",
                                      "ReduceLROnPlateau", "SequentialLR"};
  static_assert(std::size(names) == std::variant_size_v<sched::SchedulerConfig>,
                "a schedule without a name in scheduler_type()");
  return names[config.index()];
}

json scheduler_record(const sched::SchedulerConfig& config) {
  json j = {{"type", scheduler_type(config)}};
  std::visit([&](const auto& c) { scheduler_fields(c, j); }, config);
  return j;
}

}  // namespace nabla::train::detail
