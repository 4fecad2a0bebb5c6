// Adadelta (AdadeltaConfig). Rule: kernels::optim::AdadeltaRule (kernels/math/update_rules.h).
// No group state of its own.
#pragma once

#include "optim/method.h"

namespace nabla::optim::method {

template <>
struct Method<AdadeltaConfig> : MethodDefaults {
  static constexpr const char* kName = "Adadelta";
  using Rules = RuleList<rules::AdadeltaRule>;

  static void validate(const AdadeltaConfig& c) {
    check_lr("Adadelta", c.lr);
    NABLA_CHECK(c.rho >= 0.0 && c.rho <= 1.0, "AdadeltaConfig: invalid rho {} (must be in [0, 1])",
                c.rho);
    check_positive("Adadelta", "eps", c.eps);
    check_nonnegative("Adadelta", "weight_decay", c.weight_decay);
  }

  // Slot 0: square_avg, 1: acc_delta.
  static SlotNames slots(const AdadeltaConfig&) { return {"square_avg", "acc_delta", ""}; }

  static backend::UpdateCall call(const AdadeltaConfig& c, const StepContext& t, GroupState&) {
    return rule_call<Rules, rules::AdadeltaRule>(
        {float(t.lr), float(c.rho), float(c.eps), float(t.weight_decay)});
  }
};

}  // namespace nabla::optim::method
