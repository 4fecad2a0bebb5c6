// Adagrad (AdagradConfig). Rule: kernels::optim::AdagradRule (kernels/math/update_rules.h).
// No group state of its own.
#pragma once

#include "optim/method.h"

namespace nabla::optim::method {

template <>
struct Method<AdagradConfig> : MethodDefaults {
  static constexpr const char* kName = "Adagrad";
  using Rules = RuleList<rules::AdagradRule>;

  // Slot 0: sum, starting at initial_accumulator_value.
  static SlotNames slots(const AdagradConfig&) { return {"sum", "", ""}; }
  static double slot_init(const AdagradConfig& c, int) { return c.initial_accumulator_value; }

  static backend::UpdateCall call(const AdagradConfig& c, const StepContext& t, GroupState&) {
    const double clr = t.lr / (1.0 + static_cast<double>(t.step - 1) * c.lr_decay);
    return rule_call<Rules, rules::AdagradRule>({float(clr), float(t.weight_decay), float(c.eps)});
  }
};

}  // namespace nabla::optim::method
