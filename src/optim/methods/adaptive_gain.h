// AdaptiveGain (AdaptiveGainConfig): per-weight local gains, the lecture's delta-bar-delta.
// Rule: kernels::optim::AdaptiveGainRule (kernels/math/update_rules.h). No group state of its own.
#pragma once

#include "optim/method.h"

namespace nabla::optim::method {

template <>
struct Method<AdaptiveGainConfig> : MethodDefaults {
  static constexpr const char* kName = "AdaptiveGain";
  using Rules = RuleList<rules::AdaptiveGainRule>;

  static void validate(const AdaptiveGainConfig& c) {
    NABLA_CHECK(c.max_gain >= c.min_gain,
                "AdaptiveGainConfig: invalid max_gain {} (must be >= min_gain {})", c.max_gain,
                c.min_gain);
    NABLA_CHECK(c.min_gain <= 1.0 && c.max_gain >= 1.0,
                "AdaptiveGainConfig: gains start at 1, so min_gain ({}) <= 1 <= max_gain ({})",
                c.min_gain, c.max_gain);
  }

  // Slot 0: gains (start at 1), slot 1: the previous gradient.
  static SlotNames slots(const AdaptiveGainConfig&) { return {"gains", "prev_grad", ""}; }
  static double slot_init(const AdaptiveGainConfig&, int slot) { return slot == 0 ? 1.0 : 0.0; }

  static backend::UpdateCall call(const AdaptiveGainConfig& c, const StepContext& t, GroupState&) {
    return rule_call<Rules, rules::AdaptiveGainRule>(
        {float(t.lr), float(c.beta), float(t.weight_decay), float(c.min_gain), float(c.max_gain)});
  }
};

}  // namespace nabla::optim::method
