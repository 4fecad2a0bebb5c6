// The registry of optimizers: one #include per optimizer, each file holding its Method<Config>
// (src/optim/method.h describes what one holds). The config itself is the public struct in
// include/nabla/optim/config.h and an alternative of OptimizerConfig. The checks below make a
// config without a method, a method whose rules the backends do not instantiate, or a rule in
// backend::UpdateCall that no method uses, a compile error.
#pragma once

#include "optim/methods/adadelta.h"
#include "optim/methods/adagrad.h"
#include "optim/methods/adam.h"  // Adam and AdamW
#include "optim/methods/adamax.h"
#include "optim/methods/adaptive_gain.h"
#include "optim/methods/nadam.h"
#include "optim/methods/rmsprop.h"
#include "optim/methods/rprop.h"
#include "optim/methods/sgd.h"
#include "optim/methods/swats.h"

namespace nabla::optim::method {

namespace registry_detail {

template <typename Rule, typename Call>
struct instantiated;
template <typename Rule, typename... Calls>
struct instantiated<Rule, std::variant<Calls...>>
    : std::bool_constant<(std::is_same_v<backend::RuleCall<Rule>, Calls> || ...)> {};

template <typename... Rules>
constexpr bool all_instantiated(RuleList<Rules...>) {
  return (instantiated<Rules, backend::UpdateCall>::value && ...);
}

template <typename C>
constexpr bool registered() {
  if constexpr (requires { Method<C>::kName; }) {
    static_assert(all_instantiated(typename Method<C>::Rules{}),
                  "a rule in Method<C>::Rules is not an alternative of backend::UpdateCall "
                  "(src/backend/optim.h)");
    return true;
  } else {
    static_assert(sizeof(C) == 0,
                  "an OptimizerConfig alternative without a Method: add its file to "
                  "src/optim/methods.h");
    return false;
  }
}

template <typename Variant>
struct every_config_registered;
template <typename... Configs>
struct every_config_registered<std::variant<Configs...>>
    : std::bool_constant<(registered<Configs>() && ...)> {};

// Every rule the backends instantiate is one some method uses.
template <typename Rule, typename... Configs>
constexpr bool used_by_a_method(const std::variant<Configs...>*) {
  return (lists_rule<typename Method<Configs>::Rules, Rule>::value || ...);
}
template <typename Call>
struct every_rule_used;
template <typename... Calls>
struct every_rule_used<std::variant<Calls...>>
    : std::bool_constant<(
          used_by_a_method<typename Calls::rule>(static_cast<const OptimizerConfig*>(nullptr)) &&
          ...)> {};

}  // namespace registry_detail

static_assert(registry_detail::every_config_registered<OptimizerConfig>::value);
static_assert(registry_detail::every_rule_used<backend::UpdateCall>::value,
              "backend::UpdateCall instantiates a rule that no Method lists in its Rules");

}  // namespace nabla::optim::method
