// SWATS (SWATSConfig; Keskar & Socher 2017): Adam until the projected SGD learning rate
// settles, then SGD with momentum beta1.
// Rules: kernels::optim::AdamRule<false, true> (Adam reporting its dot products) before the
// switch, kernels::optim::SWATSSGDRule after it (kernels/math/update_rules.h).
// Group state: the running projected learning rate, the step it switched at and the SGD
// learning rate found then; checkpoint keys "group.N.swats_lambda", "group.N.swats_switched_at",
// "group.N.swats_sgd_lr". The switch test runs after each Adam step (after_step); phase() is what
// optim::swats_phase reports of it.
#pragma once

#include "nabla/optim/optimizer.h"
#include "optim/method.h"
#include "optim/methods/adam.h"

namespace nabla::optim::method {

template <>
struct Method<SWATSConfig> : MethodDefaults {
  static constexpr const char* kName = "SWATS";
  using Rules = RuleList<rules::AdamRule<false, true>, rules::SWATSSGDRule>;

  struct GroupState {
    double lambda = 0.0;      // the running projected learning rate
    int64_t switched_at = 0;  // the step it switched to SGD at (0: not yet)
    double sgd_lr = 0.0;      // the SGD learning rate found then

    void save(const std::string& prefix, GroupScalars& out) const {
      out.emplace_back(prefix + "swats_lambda", lambda);
      out.emplace_back(prefix + "swats_switched_at", static_cast<double>(switched_at));
      out.emplace_back(prefix + "swats_sgd_lr", sgd_lr);
    }
    void load(const State& s, const std::string& prefix, const char* what, int64_t step) {
      lambda = s.finite(prefix + "swats_lambda", what);
      switched_at = s.count(prefix + "swats_switched_at", what);
      NABLA_CHECK(switched_at <= step,
                  "{}: the saved '{}swats_switched_at' ({}) is after the saved step ({})", what,
                  prefix, switched_at, step);
      sgd_lr = s.finite(prefix + "swats_sgd_lr", what);
    }
  };

  // Slot 0: exp_avg, 1: exp_avg_sq (the Adam phase), 2: momentum_buffer (the SGD phase).
  static SlotNames slots(const SWATSConfig&) {
    return {"exp_avg", "exp_avg_sq", "momentum_buffer"};
  }
  static std::optional<double> momentum(const SWATSConfig& c) { return c.betas[0]; }

  static backend::UpdateCall call(const SWATSConfig& c, const StepContext& t, GroupState& g) {
    const double beta1 = t.momentum.value_or(c.betas[0]);
    if (g.switched_at > 0)
      return rule_call<Rules, rules::SWATSSGDRule>(
          {float(beta1), float(t.weight_decay), float((1.0 - beta1) * g.sgd_lr)});
    return rule_call<Rules, rules::AdamRule<false, true>>(
        adam_scalars(c.betas, c.eps, t.weight_decay, 1.0, t));
  }

  // What the group has decided, after `step` applied steps (optim::swats_phase).
  static SWATSPhase phase(const SWATSConfig& c, const GroupState& g, int64_t step) {
    const int64_t adam_steps = g.switched_at > 0 ? g.switched_at : step;
    SWATSPhase p{.switched = g.switched_at > 0, .switch_step = g.switched_at, .sgd_lr = g.sgd_lr};
    if (adam_steps > 0)
      p.projected_lr = g.lambda / (1.0 - std::pow(c.betas[1], static_cast<double>(adam_steps)));
    return p;
  }

  // Keskar & Socher's switching test after an Adam step p with gradient d (dots = p.p, p.d).
  static void after_step(const SWATSConfig& c, const StepContext& t, GroupState& g,
                         const rules::Dots& dots) {
    if (g.switched_at > 0) return;  // an SGD step
    if (dots.pg == 0.0) return;
    const double beta2 = c.betas[1];
    const double gamma = dots.pp / -dots.pg;
    g.lambda = beta2 * g.lambda + (1.0 - beta2) * gamma;
    const double corrected = g.lambda / (1.0 - std::pow(beta2, static_cast<double>(t.step)));
    if (t.step > 1 && std::abs(corrected - gamma) < c.eps_switch) {
      g.switched_at = t.step;
      g.sgd_lr = corrected;
    }
  }
};

}  // namespace nabla::optim::method
