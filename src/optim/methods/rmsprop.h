// RMSprop (RMSpropConfig): PyTorch's form, or eps inside the square root as the lecture has it.
// Rule: kernels::optim::RMSpropRule (kernels/math/update_rules.h). No group state of its own.
#pragma once

#include "optim/method.h"

namespace nabla::optim::method {

template <>
struct Method<RMSpropConfig> : MethodDefaults {
  static constexpr const char* kName = "RMSprop";
  using Rules = RuleList<rules::RMSpropRule<false, false>, rules::RMSpropRule<false, true>,
                         rules::RMSpropRule<true, false>, rules::RMSpropRule<true, true>>;

  static bool has_buffer(const RMSpropConfig& c) { return c.momentum > 0.0; }

  // Slot 0: square_avg, 1: grad_avg (centered), 2: momentum_buffer (momentum > 0).
  static SlotNames slots(const RMSpropConfig& c) {
    return {"square_avg", c.centered ? "grad_avg" : "", has_buffer(c) ? "momentum_buffer" : ""};
  }

  static std::optional<double> momentum(const RMSpropConfig& c) { return c.momentum; }
  // Made with momentum 0, it keeps no buffer that a momentum could act on.
  static bool momentum_cycles(const RMSpropConfig& c) { return has_buffer(c); }

  static backend::UpdateCall call(const RMSpropConfig& c, const StepContext& t, GroupState&) {
    const rules::RMSpropScalars s{float(t.lr),
                                  float(c.alpha),
                                  float(c.eps),
                                  float(t.weight_decay),
                                  float(t.momentum.value_or(0.0)),
                                  c.eps_inside_sqrt};
    const bool momentum = has_buffer(c);
    if (c.centered) {
      if (momentum) return rule_call<Rules, rules::RMSpropRule<true, true>>(s);
      return rule_call<Rules, rules::RMSpropRule<true, false>>(s);
    }
    if (momentum) return rule_call<Rules, rules::RMSpropRule<false, true>>(s);
    return rule_call<Rules, rules::RMSpropRule<false, false>>(s);
  }
};

}  // namespace nabla::optim::method
