// Adam (AdamConfig, weight decay as L2) and AdamW (AdamWConfig, decoupled weight decay), with
// AMSGrad and bias correction (on by default, as PyTorch) as options. Rule:
// kernels::optim::AdamRule (kernels/math/update_rules.h), which SWATS's Adam phase uses too
// (src/optim/methods/swats.h). No group state of their own.
#pragma once

#include "optim/method.h"

namespace nabla::optim::method {

// The Adam rule's per-step scalars: l2 is added to the gradient, decay multiplies the weights.
// Without bias correction the moments are used as they are: step_size lr, and v divided by 1.
inline rules::AdamScalars adam_scalars(const Betas& betas, double eps, double l2, double decay,
                                       const StepContext& t, bool bias_correction = true) {
  const double beta1 = t.momentum.value_or(betas[0]);
  const double step = static_cast<double>(t.step);
  const double correction1 = bias_correction ? 1.0 - std::pow(beta1, step) : 1.0;
  const double correction2 = bias_correction ? 1.0 - std::pow(betas[1], step) : 1.0;
  return {.beta1 = float(beta1),
          .beta2 = float(betas[1]),
          .eps = float(eps),
          .weight_decay = float(l2),
          .decay = float(decay),
          .step_size = float(t.lr / correction1),
          .bias_correction2_sqrt = float(std::sqrt(correction2))};
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
  static backend::UpdateCall call(const AdamConfig& c, const StepContext& t, GroupState&) {
    return adam_call(c.amsgrad,
                     adam_scalars(c.betas, c.eps, t.weight_decay, 1.0, t, c.bias_correction));
  }
};

template <>
struct Method<AdamWConfig> : AdamLike {
  static constexpr const char* kName = "AdamW";
  static backend::UpdateCall call(const AdamWConfig& c, const StepContext& t, GroupState&) {
    return adam_call(c.amsgrad, adam_scalars(c.betas, c.eps, 0.0, 1.0 - t.lr * t.weight_decay, t,
                                             c.bias_correction));
  }
};

}  // namespace nabla::optim::method
