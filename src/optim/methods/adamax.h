// Adamax (AdamaxConfig). Rule: kernels::optim::AdamaxRule (kernels/math/update_rules.h).
// No group state of its own.
#pragma once

#include "optim/method.h"

namespace nabla::optim::method {

template <>
struct Method<AdamaxConfig> : MethodDefaults {
  static constexpr const char* kName = "Adamax";
  using Rules = RuleList<rules::AdamaxRule>;

  // Slot 0: exp_avg, 1: exp_inf.
  static SlotNames slots(const AdamaxConfig&) { return {"exp_avg", "exp_inf", ""}; }
  static std::optional<double> momentum(const AdamaxConfig& c) { return c.betas[0]; }

  static backend::UpdateCall call(const AdamaxConfig& c, const StepContext& t, GroupState&) {
    const double beta1 = t.momentum.value_or(c.betas[0]);
    const double clr = t.lr / (1.0 - std::pow(beta1, static_cast<double>(t.step)));
    return rule_call<Rules, rules::AdamaxRule>(
        {float(beta1), float(c.betas[1]), float(c.eps), float(t.weight_decay), float(clr)});
  }
};

}  // namespace nabla::optim::method
