// SGD (SGDConfig): PyTorch's momentum form or the lecture's classical one.
// Rule: kernels::optim::SGDRule (kernels/math/update_rules.h). No group state of its own.
#pragma once

#include "optim/method.h"

namespace nabla::optim::method {

template <>
struct Method<SGDConfig> : MethodDefaults {
  static constexpr const char* kName = "SGD";
  using Rules = RuleList<rules::SGDRule<false>, rules::SGDRule<true>>;

  static bool has_buffer(const SGDConfig& c) { return c.momentum > 0.0; }

  static void validate(const SGDConfig& c) {
    NABLA_CHECK(!c.nesterov || (c.momentum > 0.0 && c.dampening == 0.0),
                "SGDConfig: nesterov needs momentum > 0 and dampening 0 (got momentum {}, "
                "dampening {})",
                c.momentum, c.dampening);
  }

  // Slot 0: momentum_buffer (momentum > 0).
  static SlotNames slots(const SGDConfig& c) {
    return {has_buffer(c) ? "momentum_buffer" : "", "", ""};
  }

  static std::optional<double> momentum(const SGDConfig& c) { return c.momentum; }
  // Made with momentum 0, it keeps no buffer that a momentum could act on.
  static bool momentum_cycles(const SGDConfig& c) { return has_buffer(c); }

  static backend::UpdateCall call(const SGDConfig& c, const StepContext& t, GroupState&) {
    const rules::SGDScalars s{.lr = float(t.lr),
                              .momentum = float(t.momentum.value_or(0.0)),
                              .one_minus_dampening = float(1.0 - c.dampening),
                              .weight_decay = float(t.weight_decay),
                              .nesterov = c.nesterov,
                              .first = t.step == 1,
                              .classical = c.classical};
    if (has_buffer(c)) return rule_call<Rules, rules::SGDRule<true>>(s);
    return rule_call<Rules, rules::SGDRule<false>>(s);
  }
};

}  // namespace nabla::optim::method
