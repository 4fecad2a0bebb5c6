// Adadelta (AdadeltaConfig). Rule: kernels::optim::AdadeltaRule (kernels/math/update_rules.h).
// No group state of its own.
#pragma once

#include "optim/method.h"

namespace nabla::optim::method {

template <>
struct Method<AdadeltaConfig> : MethodDefaults {
  static constexpr const char* kName = "Adadelta";
  using Rules = RuleList<rules::AdadeltaRule>;

  // Slot 0: square_avg, 1: acc_delta.
  static SlotNames slots(const AdadeltaConfig&) { return {"square_avg", "acc_delta", ""}; }

  static backend::UpdateCall call(const AdadeltaConfig& c, const StepContext& t, GroupState&) {
    return rule_call<Rules, rules::AdadeltaRule>(
        {float(t.lr), float(c.rho), float(c.eps), float(t.weight_decay)});
  }
};

}  // namespace nabla::optim::method
