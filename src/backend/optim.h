// The optimizers' update: one fused call over a contiguous range of the flat buffers (one per
// parameter group per step), and a sum of squares over a flat buffer (the non-finite check and
// global-norm clipping). The per-element rules are kernels/math/update_rules.h.
#pragma once

#include <array>
#include <cstdint>
#include <variant>

#include "backend/dispatch.h"
#include "kernels/math/update_rules.h"

namespace nabla::backend {

namespace rules = kernels::optim;

// A rule and its per-step scalars; the variant picks the instantiation once per launch.
// Every rule an optimizer's Method lists in its Rules (src/optim/methods/) is one alternative
// here, so that both backends instantiate it; src/optim/methods.h checks the two lists agree.
template <typename Rule>
struct RuleCall {
  using rule = Rule;
  typename Rule::Scalars scalars;
};

using UpdateCall = std::variant<
    RuleCall<rules::SGDRule<false>>, RuleCall<rules::SGDRule<true>>,
    RuleCall<rules::AdaptiveGainRule>, RuleCall<rules::RMSpropRule<false, false>>,
    RuleCall<rules::RMSpropRule<false, true>>, RuleCall<rules::RMSpropRule<true, false>>,
    RuleCall<rules::RMSpropRule<true, true>>, RuleCall<rules::AdamRule<false>>,
    RuleCall<rules::AdamRule<true>>, RuleCall<rules::AdamRule<false, true>>,
    RuleCall<rules::SWATSSGDRule>, RuleCall<rules::AdagradRule>, RuleCall<rules::AdadeltaRule>,
    RuleCall<rules::AdamaxRule>, RuleCall<rules::NAdamRule>, RuleCall<rules::RpropRule>>;

// Pointers on the device of the arena, each to n floats; slots the rule does not use may be null.
struct UpdateBuffers {
  float* params = nullptr;
  const float* grads = nullptr;
  std::array<float*, rules::kMaxSlots> slots{};
  int64_t n = 0;
};

// Returns the rule's dot products (zero unless Rule::kReduces).
NABLA_DECLARE_STUB(optim_update_stub,
                   rules::Dots(const UpdateCall& call, const UpdateBuffers& buffers));
// sum(x^2) in double over n floats on the stub's device; inf or nan if any x is.
NABLA_DECLARE_STUB(sum_squares_stub, double(const float* x, int64_t n));

}  // namespace nabla::backend
