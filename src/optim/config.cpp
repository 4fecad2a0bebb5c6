// Optimizer configs: names, parsing from a name, and validation with errors naming the field.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "nabla/error.h"
#include "nabla/optim/config.h"

namespace nabla::optim {
namespace {

template <typename T>
constexpr const char* name_of() {
  if constexpr (std::is_same_v<T, SGDConfig>) return "SGD";
  if constexpr (std::is_same_v<T, AdaptiveGainConfig>) return "AdaptiveGain";
  if constexpr (std::is_same_v<T, RMSpropConfig>) return "RMSprop";
  if constexpr (std::is_same_v<T, AdamConfig>) return "Adam";
  if constexpr (std::is_same_v<T, AdamWConfig>) return "AdamW";
  if constexpr (std::is_same_v<T, AdagradConfig>) return "Adagrad";
  if constexpr (std::is_same_v<T, AdadeltaConfig>) return "Adadelta";
  if constexpr (std::is_same_v<T, AdamaxConfig>) return "Adamax";
  if constexpr (std::is_same_v<T, NAdamConfig>) return "NAdam";
  if constexpr (std::is_same_v<T, SWATSConfig>) return "SWATS";
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Field checks; `opt` is the optimizer's name for the message.
void check_lr(const char* opt, double lr) {
  NABLA_CHECK(std::isfinite(lr) && lr >= 0.0, "{}Config: invalid lr {} (must be >= 0)", opt, lr);
}
void check_nonnegative(const char* opt, const char* field, double v) {
  NABLA_CHECK(std::isfinite(v) && v >= 0.0, "{}Config: invalid {} {} (must be >= 0)", opt, field,
              v);
}
void check_positive(const char* opt, const char* field, double v) {
  NABLA_CHECK(std::isfinite(v) && v > 0.0, "{}Config: invalid {} {} (must be > 0)", opt, field, v);
}
void check_unit(const char* opt, const char* field, double v) {
  NABLA_CHECK(v >= 0.0 && v < 1.0, "{}Config: invalid {} {} (must be in [0, 1))", opt, field, v);
}
void check_betas(const char* opt, const Betas& betas) {
  check_unit(opt, "betas[0]", betas[0]);
  check_unit(opt, "betas[1]", betas[1]);
}

void check(const SGDConfig& c) {
  check_lr("SGD", c.lr);
  check_nonnegative("SGD", "momentum", c.momentum);
  check_nonnegative("SGD", "weight_decay", c.weight_decay);
  NABLA_CHECK(c.dampening >= 0.0 && c.dampening <= 1.0,
              "SGDConfig: invalid dampening {} (must be in [0, 1])", c.dampening);
  NABLA_CHECK(!c.nesterov || (c.momentum > 0.0 && c.dampening == 0.0),
              "SGDConfig: nesterov needs momentum > 0 and dampening 0 (got momentum {}, "
              "dampening {})",
              c.momentum, c.dampening);
}
void check(const AdaptiveGainConfig& c) {
  check_lr("AdaptiveGain", c.lr);
  check_unit("AdaptiveGain", "beta", c.beta);
  check_nonnegative("AdaptiveGain", "weight_decay", c.weight_decay);
  check_nonnegative("AdaptiveGain", "min_gain", c.min_gain);
  NABLA_CHECK(c.max_gain >= c.min_gain && c.max_gain > 0.0,
              "AdaptiveGainConfig: invalid max_gain {} (must be > 0 and >= min_gain {})",
              c.max_gain, c.min_gain);
  NABLA_CHECK(c.min_gain <= 1.0 && c.max_gain >= 1.0,
              "AdaptiveGainConfig: gains start at 1, so min_gain ({}) <= 1 <= max_gain ({})",
              c.min_gain, c.max_gain);
}
void check(const RMSpropConfig& c) {
  check_lr("RMSprop", c.lr);
  check_unit("RMSprop", "alpha", c.alpha);
  check_positive("RMSprop", "eps", c.eps);
  check_nonnegative("RMSprop", "weight_decay", c.weight_decay);
  check_nonnegative("RMSprop", "momentum", c.momentum);
}
template <typename C>
void check_adam_like(const char* opt, const C& c) {
  check_lr(opt, c.lr);
  check_betas(opt, c.betas);
  check_positive(opt, "eps", c.eps);
  check_nonnegative(opt, "weight_decay", c.weight_decay);
}
void check(const AdamConfig& c) {
  check_adam_like("Adam", c);
}
void check(const AdamWConfig& c) {
  check_adam_like("AdamW", c);
}
void check(const AdamaxConfig& c) {
  check_adam_like("Adamax", c);
}
void check(const NAdamConfig& c) {
  check_adam_like("NAdam", c);
  check_nonnegative("NAdam", "momentum_decay", c.momentum_decay);
}
void check(const SWATSConfig& c) {
  check_adam_like("SWATS", c);
  check_positive("SWATS", "eps_switch", c.eps_switch);
}
void check(const AdagradConfig& c) {
  check_lr("Adagrad", c.lr);
  check_nonnegative("Adagrad", "lr_decay", c.lr_decay);
  check_nonnegative("Adagrad", "weight_decay", c.weight_decay);
  check_nonnegative("Adagrad", "initial_accumulator_value", c.initial_accumulator_value);
  check_positive("Adagrad", "eps", c.eps);
}
void check(const AdadeltaConfig& c) {
  check_lr("Adadelta", c.lr);
  NABLA_CHECK(c.rho >= 0.0 && c.rho <= 1.0, "AdadeltaConfig: invalid rho {} (must be in [0, 1])",
              c.rho);
  check_positive("Adadelta", "eps", c.eps);
  check_nonnegative("Adadelta", "weight_decay", c.weight_decay);
}

}  // namespace

std::string optimizer_name(const OptimizerConfig& config) {
  return std::visit([](const auto& c) { return std::string(name_of<std::decay_t<decltype(c)>>()); },
                    config);
}

OptimizerConfig parse_optimizer(const std::string& name) {
  OptimizerConfig result;
  bool found = false;
  std::string known;
  // Tries every alternative of the variant in order.
  [&]<size_t... I>(std::index_sequence<I...>) {
    (([&] {
       using T = std::variant_alternative_t<I, OptimizerConfig>;
       known += std::string(known.empty() ? "" : ", ") + lower(name_of<T>());
       if (!found && lower(name) == lower(name_of<T>())) {
         result = T{};
         found = true;
       }
     }()),
     ...);
  }
  (std::make_index_sequence<std::variant_size_v<OptimizerConfig>>{});
  NABLA_CHECK(found, "unknown optimizer '{}' (known: {})", name, known);
  return result;
}

void validate(const OptimizerConfig& config) {
  std::visit([](const auto& c) { check(c); }, config);
}

}  // namespace nabla::optim
