// NAdam (NAdamConfig), PyTorch 1.13's, including its mu-product bookkeeping.
// Rule: kernels::optim::NAdamRule (kernels/math/update_rules.h).
// Group state: the product of the momentum coefficients so far, checkpoint key
// "group.N.mu_product".
#pragma once

#include "optim/method.h"

namespace nabla::optim::method {

template <>
struct Method<NAdamConfig> : MethodDefaults {
  static constexpr const char* kName = "NAdam";
  using Rules = RuleList<rules::NAdamRule>;

  struct GroupState {
    float mu_product = 1.0f;  // float32, as PyTorch keeps it

    void save(const std::string& prefix, GroupScalars& out) const {
      out.emplace_back(prefix + "mu_product", mu_product);
    }
    void load(const State& s, const std::string& prefix, const char* what, int64_t /*step*/) {
      mu_product = static_cast<float>(s.finite(prefix + "mu_product", what));
    }
  };

  // Slot 0: exp_avg, 1: exp_avg_sq.
  static SlotNames slots(const NAdamConfig&) { return {"exp_avg", "exp_avg_sq", ""}; }
  static std::optional<double> momentum(const NAdamConfig& c) { return c.betas[0]; }

  // Advances the group's mu product by this step's mu.
  static backend::UpdateCall call(const NAdamConfig& c, const StepContext& step, GroupState& g) {
    const double beta1 = step.momentum.value_or(c.betas[0]);
    const double lr = step.lr;
    const double t = static_cast<double>(step.step);
    const double mu = beta1 * (1.0 - 0.5 * std::pow(0.96, t * c.momentum_decay));
    const double mu_next = beta1 * (1.0 - 0.5 * std::pow(0.96, (t + 1.0) * c.momentum_decay));
    // As PyTorch 1.13: mu_product is a float32 tensor, and the "next" product multiplies mu in
    // a second time (mu_product * mu * mu_next after mu_product *= mu).
    g.mu_product = g.mu_product * float(mu);
    const float mu_product_next = g.mu_product * float(mu) * float(mu_next);
    return rule_call<Rules, rules::NAdamRule>(
        {.beta1 = float(beta1),
         .beta2 = float(c.betas[1]),
         .eps = float(c.eps),
         .weight_decay = float(step.weight_decay),
         .bias_correction2 = float(1.0 - std::pow(c.betas[1], t)),
         .grad_coef = float(lr * (1.0 - mu) / (1.0 - double(g.mu_product))),
         .avg_coef = float(lr * mu_next / (1.0 - double(mu_product_next)))});
  }
};

}  // namespace nabla::optim::method
