#include "nabla/optim/optimizer.h"

#include <cmath>

namespace nabla::optim {

void Optimizer::check_group(int64_t group) const {
  NABLA_CHECK(group >= 0 && group < num_groups(),
              "{}: parameter group {} does not exist ({} groups)", type_name(), group,
              num_groups());
}

double Optimizer::group_lr(int64_t group) const {
  check_group(group);
  return group_lrs_[group];
}

void Optimizer::set_group_lr(int64_t group, double lr) {
  check_group(group);
  NABLA_CHECK(std::isfinite(lr) && lr >= 0.0, "{}: invalid learning rate {} (must be >= 0)",
              type_name(), lr);
  group_lrs_[group] = lr;
}

void Optimizer::set_lr(double lr) {
  for (int64_t g = 0; g < num_groups(); ++g) set_group_lr(g, lr);
}

Tensor Optimizer::state_slot(const std::string& slot, const std::string& param) const {
  const State s = state_dict();
  auto it = s.tensors.find(slot + "." + param);
  NABLA_CHECK(it != s.tensors.end(), "{}: no state slot '{}' of a parameter '{}'", type_name(),
              slot, param);
  return it->second;
}

nn::NamedTensors adaptive_gains(const Optimizer& optimizer) {
  NABLA_CHECK(optimizer.type_name() == "AdaptiveGain",
              "adaptive_gains: the optimizer is {}, not AdaptiveGain", optimizer.type_name());
  nn::NamedTensors gains;
  for (const auto& e : optimizer.arena()->entries())
    gains.emplace_back(e.name, optimizer.state_slot("gains", e.name));
  return gains;
}

void Optimizer::set_group_momentum(int64_t group, double) {
  NABLA_FAIL("{} has no momentum to cycle; use cycle_momentum = false", type_name());
}

std::optional<OptimizerConfig> Optimizer::group_config(int64_t group) const {
  check_group(group);
  return std::nullopt;
}

void Optimizer::set_group_config(int64_t group, const OptimizerConfig&) {
  check_group(group);
  NABLA_FAIL("{} has no configs to set (set_group_lr and set_group_momentum change its groups)",
             type_name());
}

}  // namespace nabla::optim
