// Optimizer configs: names, parsing from a name, and validation with errors naming the field.
// Each optimizer's name and checks are in its file under src/optim/methods/.
#include <algorithm>
#include <cctype>

#include "nabla/error.h"
#include "nabla/optim/config.h"
#include "optim/methods.h"

namespace nabla::optim {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::string optimizer_name(const OptimizerConfig& config) {
  return std::visit(
      [](const auto& c) { return std::string(method::Method<std::decay_t<decltype(c)>>::kName); },
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
       const std::string t_name = method::Method<T>::kName;
       known += std::string(known.empty() ? "" : ", ") + lower(t_name);
       if (!found && lower(name) == lower(t_name)) {
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
  std::visit(
      [](const auto& c) {
        using M = method::Method<std::decay_t<decltype(c)>>;
        check_fields(c, (std::string(M::kName) + "Config").c_str());
        M::validate(c);
      },
      config);
}

}  // namespace nabla::optim
