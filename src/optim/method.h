// What one optimizer adds to the fused machinery (src/optim/fused_optimizer.cpp). The machinery
// is shared: the parameter arena, one flat float32 buffer per state slot, the non-finite check,
// the step counter, each parameter group's lr, weight_decay and cycled momentum, saving and
// loading. An optimizer is a specialisation Method<Config>, in a file of its own under
// src/optim/methods/, registered by one #include in src/optim/methods.h. It derives from
// MethodDefaults (which supplies the entries marked "default") and holds:
//
//   kName                       "SGD": type_name(), the checkpoint's "type", parse_optimizer()
//   Rules                       RuleList<...> of the per-element rules (kernels/math/
//                               update_rules.h) its calls use; each is also an alternative of
//                               backend::UpdateCall (src/backend/optim.h)
//   validate(c)                 the checks across fields (each field's range is in its table,
//                               nabla/optim/config.h, and checked first)    default nothing
//   slots(c)                    its state slots, as PyTorch's state keys ("" for a slot unused)
//   slot_init(c, k)             the value slot k starts at                         default 0
//   momentum(c)                 the hyperparameter cyclic schedules vary     default nullopt
//   momentum_cycles(c)          false when the config keeps no state for a cycled momentum
//                               to act on (SGD and RMSprop made with momentum 0)   default true
//   GroupState                  its own state per parameter group, with save() and load()
//                               (checkpoint keys "group.N.<name>")        default NoGroupState
//   call(c, step, state)        the rule and its per-step scalars, computed on the host, as a
//                               backend::UpdateCall; may advance `state` (NAdam's mu product)
//   after_step(c, step, state, dots)   runs after the group's update with the rule's dot
//                               products (SWATS's switch test)               default nothing
#pragma once

#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "backend/optim.h"
#include "nabla/error.h"
#include "nabla/optim/config.h"
#include "nabla/state.h"

namespace nabla::optim::method {

namespace rules = kernels::optim;

// Slot names as PyTorch's state keys; an empty name is a slot the config does not need.
using SlotNames = std::array<std::string, rules::kMaxSlots>;

// A group's saved scalars: key ("group.N.<name>") and value.
using GroupScalars = std::vector<std::pair<std::string, double>>;

// What a method sees of one parameter group at the step being applied.
struct StepContext {
  int64_t step = 0;                // t: the step being applied, 1 for the first
  double lr = 0.0;                 // the group's learning rate
  double weight_decay = 0.0;       // the group's weight decay
  std::optional<double> momentum;  // the group's cycled momentum (see momentum()); nullopt: none
};

// The per-group state of a method that keeps none.
struct NoGroupState {
  void save(const std::string& /*prefix*/, GroupScalars& /*out*/) const {}
  void load(const State& /*s*/, const std::string& /*prefix*/, const char* /*what*/,
            int64_t /*step*/) {}
};

// The update rules a method's calls use.
template <typename... Rules>
struct RuleList {};

template <typename List, typename Rule>
struct lists_rule;
template <typename... Rules, typename Rule>
struct lists_rule<RuleList<Rules...>, Rule>
    : std::bool_constant<(std::is_same_v<Rules, Rule> || ...)> {};

// The call of Rule with its per-step scalars; Rule must be one of the method's `Rules`.
template <typename Rules, typename Rule>
backend::UpdateCall rule_call(const typename Rule::Scalars& scalars) {
  static_assert(lists_rule<Rules, Rule>::value, "the method does not list this rule in Rules");
  return backend::RuleCall<Rule>{scalars};
}

// What a method does not need to spell out.
struct MethodDefaults {
  using GroupState = NoGroupState;
  template <typename C>
  static void validate(const C&) {}
  template <typename C>
  static double slot_init(const C&, int /*slot*/) {
    return 0.0;
  }
  template <typename C>
  static std::optional<double> momentum(const C&) {
    return std::nullopt;
  }
  template <typename C>
  static bool momentum_cycles(const C&) {
    return true;
  }
  template <typename C, typename S>
  static void after_step(const C&, const StepContext&, S&, const rules::Dots&) {}
};

// Specialised for each config by its file in src/optim/methods/.
template <typename Config>
struct Method;

// Group keys that checkpoints written before the methods had state of their own hold for every
// optimizer (NAdam's and SWATS's group state was kept in each group). Loading accepts and
// ignores them where the optimizer does not use them.
inline constexpr std::array<std::string_view, 4> kLegacyGroupKeys = {
    "mu_product", "swats_lambda", "swats_switched_at", "swats_sgd_lr"};

}  // namespace nabla::optim::method
