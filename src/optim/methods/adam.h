// Adam (AdamConfig, weight decay as L2) and AdamW (AdamWConfig, decoupled weight decay), with
// AMSGrad as an option. Rule: kernels::optim::AdamRule (kernels/math/update_rules.h), which
// SWATS's Adam phase uses too (src/optim/methods/swats.h). No group state of their own.
#pragma once

#include "optim/method.h"

namespace nabla::optim::method {

// The Adam rule's per-step scalars: l2 is added to the gradient, decay multiplies the weights.
inline rules::AdamScalars adam_scalars(const Betas& betas, double eps, double l2, double decay,
                                       const StepContext& t) {
  const double beta1 = t.momentum.value_or(betas[0]);
  const double step = static_cast<double>(t.step);
  return {.beta1 = float(beta1),
          .beta2 = float(betas[1]),
          .eps = float(eps),
          .weight_decay = float(l2),
          .decay = float(decay),
          .step_size = float(t.lr / (1.0 - std::pow(beta1, step))),
          .bias_correction2_sqrt = float(std::sqrt(1.0 - std::pow(betas[1], step)))};
}

// What Adam and AdamW share: slots exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad); beta1 cycles.
struct AdamLike : MethodDefaults {
  using Rules = RuleList<rules::AdamRule<false>, rules::AdamRule<true>>;

  template <typename C>
  static SlotNames slots(const C& c) {
    return {"exp_avg", "exp_avg_sq", c.amsgrad ? "max_exp_avg_sq" : ""};
  }
  template <typename C>
  static std::optional<double> momentum(const C& c) {
    return c.betas[0];
  }
  static backend::UpdateCall adam_call(bool amsgrad, const rules::AdamScalars& s) {
    if (amsgrad) return rule_call<Rules, rules::AdamRule<true>>(s);
    return rule_call<Rules, rules::AdamRule<false>>(s);
  }
};

template <>
struct Method<AdamConfig> : AdamLike {
  static constexpr const char* kName = "Adam";
  static void validate(const AdamConfig& c) { check_adam_like("Adam", c); }
  static backend::UpdateCall call(const AdamConfig& c, const StepContext& t, GroupState&) {
    return adam_call(c.amsgrad, adam_scalars(c.betas, c.eps, t.weight_decay, 1.0, t));
  }
};

template <>
struct Method<AdamWConfig> : AdamLike {
  static constexpr const char* kName = "AdamW";
  static void validate(const AdamWConfig& c) { check_adam_like("AdamW", c); }
  static backend::UpdateCall call(const AdamWConfig& c, const StepContext& t, GroupState&) {
    return adam_call(c.amsgrad, adam_scalars(c.betas, c.eps, 0.0, 1.0 - t.lr * t.weight_decay, t));
  }
};

}  // namespace nabla::optim::method
