// Rprop (RpropConfig): iRprop-, as PyTorch's torch.optim.Rprop. Rule: kernels::optim::RpropRule
// (kernels/math/update_rules.h). No group state of its own: the per-weight step sizes and the
// kept gradients are its two slots.
#pragma once

#include "optim/method.h"

namespace nabla::optim::method {

template <>
struct Method<RpropConfig> : MethodDefaults {
  static constexpr const char* kName = "Rprop";
  using Rules = RuleList<rules::RpropRule>;

  static void validate(const RpropConfig& c) {
    NABLA_CHECK(c.etas[0] > 0.0 && c.etas[0] < 1.0,
                "RpropConfig: invalid etas[0] {} (must be in (0, 1))", c.etas[0]);
    NABLA_CHECK(std::isfinite(c.etas[1]) && c.etas[1] > 1.0,
                "RpropConfig: invalid etas[1] {} (must be > 1)", c.etas[1]);
    NABLA_CHECK(std::isfinite(c.step_sizes[0]) && c.step_sizes[0] >= 0.0,
                "RpropConfig: invalid step_sizes[0] {} (must be >= 0)", c.step_sizes[0]);
    NABLA_CHECK(std::isfinite(c.step_sizes[1]) && c.step_sizes[1] >= c.step_sizes[0] &&
                    c.step_sizes[1] > 0.0,
                "RpropConfig: invalid step_sizes[1] {} (must be > 0 and >= step_sizes[0] {})",
                c.step_sizes[1], c.step_sizes[0]);
  }

  // Slot 0: prev, 1: step_size (PyTorch's keys). The step sizes start at the group's lr at the
  // first step (the rule's `first`); before it they read as the config's lr.
  static SlotNames slots(const RpropConfig&) { return {"prev", "step_size", ""}; }
  static double slot_init(const RpropConfig& c, int slot) { return slot == 1 ? c.lr : 0.0; }

  static backend::UpdateCall call(const RpropConfig& c, const StepContext& t, GroupState&) {
    return rule_call<Rules, rules::RpropRule>({.lr = float(t.lr),
                                               .eta_minus = float(c.etas[0]),
                                               .eta_plus = float(c.etas[1]),
                                               .step_size_min = float(c.step_sizes[0]),
                                               .step_size_max = float(c.step_sizes[1]),
                                               .weight_decay = float(t.weight_decay),
                                               .first = t.step == 1});
  }
};

}  // namespace nabla::optim::method
