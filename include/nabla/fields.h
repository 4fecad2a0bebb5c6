// Field tables: every config struct's fields, declared once beside the struct, each with its name
// (PyTorch's), the member it is, one line of help and the range its values must lie in.
//
//   constexpr auto fields(const SGDConfig*) {
//     return std::tuple{field("lr", &SGDConfig::lr, "learning rate", at_least(0)), ...};
//   }
//
// Everything that reads or writes a config by name works from these tables: the TOML keys and
// command-line flags of nabla/train/options.h and their --help, the range checks of validate()
// (check_fields), and the config a checkpoint records. A field added to a struct and to its table
// is therefore everywhere at once; one left out of the table is nowhere but in C++.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "nabla/error.h"

namespace nabla {

// The values a number may take: [min, max], either end open, and finite (+inf too where
// `infinity` says so: a max_gain of inf means "no limit").
struct Bounds {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false;
  bool max_open = false;
  bool infinity = false;

  bool bounded() const { return std::isfinite(min) || std::isfinite(max); }
  bool contains(double v) const {
    if (!std::isfinite(v)) return infinity && v > 0;
    return (min_open ? v > min : v >= min) && (max_open ? v < max : v <= max);
  }
  // ">= 0", "> 0", "in [0, 1)", "finite".
  std::string text() const {
    const bool low = std::isfinite(min), high = std::isfinite(max);
    if (low && high)
      return fmt::format("in {}{:g}, {:g}{}", min_open ? '(' : '[', min, max, max_open ? ')' : ']');
    if (low) return fmt::format("{} {:g}", min_open ? ">" : ">=", min);
    if (high) return fmt::format("{} {:g}", max_open ? "<" : "<=", max);
    return "finite";
  }
};

constexpr Bounds any_value() {
  return {};
}
constexpr Bounds at_least(double min) {
  return {.min = min};
}
constexpr Bounds above(double min) {
  return {.min = min, .min_open = true};
}
constexpr Bounds closed(double min, double max) {
  return {.min = min, .max = max};
}
constexpr Bounds half_open(double min, double max) {  // [min, max)
  return {.min = min, .max = max, .max_open = true};
}
constexpr Bounds or_infinity(Bounds b) {  // +inf allowed too
  b.infinity = true;
  return b;
}

// One field of config struct C: its name (the TOML key, the checkpoint's key; the flag is
// --name with '-' for '_'), the member, its help, its range (numbers, and each number of a list),
// whether a resumed run keeps the checkpoint's value (TrainerConfig's settings that shape the
// run; an optimizer's and a schedule's fields are always kept), and how --help names its value
// where the type alone does not say (.shown_as("DIR")).
template <typename C, typename T>
struct Field {
  using Config = C;
  using Type = T;
  const char* name;
  T C::*member;
  const char* help;
  Bounds bounds;
  bool kept_on_resume;
  const char* value_name = nullptr;  // as --help shows the value ("DIR"); null: from the type

  constexpr Field shown_as(const char* value) const {
    Field f = *this;
    f.value_name = value;
    return f;
  }
};

template <typename C, typename T>
constexpr Field<C, T> field(const char* name, T C::*member, const char* help,
                            Bounds bounds = any_value()) {
  return {name, member, help, bounds, false};
}

// A TrainerConfig field that a checkpoint records and a resumed run keeps unless named.
template <typename C, typename T>
constexpr Field<C, T> kept_field(const char* name, T C::*member, const char* help,
                                 Bounds bounds = any_value()) {
  return {name, member, help, bounds, true};
}

// The table of config C: fields(const C*), found by argument-dependent lookup.
template <typename C>
constexpr auto fields_of() {
  return fields(static_cast<const C*>(nullptr));
}

template <typename C>
concept HasFields = requires {
  fields(static_cast<const C*>(nullptr));
};

// Calls f(field) for every field of C's table, in order.
template <typename C, typename F>
constexpr void for_each_field(F&& f) {
  std::apply([&](const auto&... each) { (f(each), ...); }, fields_of<C>());
}

// An enum's names as configs spell them: enum_names(E{}) returns pairs {"name", value}, declared
// beside the enum and found by argument-dependent lookup.
template <typename E>
struct EnumName {
  const char* name;
  E value;
};

template <typename E>
concept NamedEnum = std::is_enum_v<E> && requires {
  enum_names(E{});
};

template <NamedEnum E>
const char* enum_name(E value) {
  for (const auto& [name, v] : enum_names(E{}))
    if (v == value) return name;
  return "?";
}

// The value named `name`, or nullopt.
template <NamedEnum E>
std::optional<E> enum_value(std::string_view name) {
  for (const auto& [n, v] : enum_names(E{}))
    if (name == n) return v;
  return std::nullopt;
}

// "a, b, c": the names, for messages and help.
template <NamedEnum E>
std::string enum_choices(std::string_view separator = ", ") {
  std::string out;
  for (const auto& [name, v] : enum_names(E{}))
    out += (out.empty() ? "" : std::string(separator)) + name;
  return out;
}

namespace detail {

template <typename T>
void check_bounds(const char* owner, const char* name, const T& value, const Bounds& b) {
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    NABLA_CHECK(b.contains(static_cast<double>(value)), "{}: invalid {} {} (must be {})", owner,
                name, value, b.text());
  } else if constexpr (requires { value.has_value(); }) {
    if (value) check_bounds(owner, name, *value, b);
  } else if constexpr (requires { value.values; }) {  // a value per group
    check_bounds(owner, name, value.values, b);
  } else if constexpr (requires {
                         value.size();
                         value[0] + 0;
                       }) {  // a list of numbers
    for (size_t i = 0; i < value.size(); ++i)
      NABLA_CHECK(b.contains(static_cast<double>(value[i])), "{}: invalid {}[{}] {} (must be {})",
                  owner, name, i, value[i], b.text());
  }
}

}  // namespace detail

// Throws nabla::Error for the first field of `config` outside its range, as
// "<owner>: invalid <field> <value> (must be <range>)", or "<owner>: <field> is required (must
// be <range>)" for a field left at a default that is out of range (PyTorch's required arguments:
// StepLR's step_size, ExponentialLR's gamma).
template <HasFields C>
void check_fields(const C& config, const char* owner) {
  const C defaults{};
  for_each_field<C>([&](const auto& f) {
    using T = typename std::decay_t<decltype(f)>::Type;
    if (!f.bounds.bounded() && !std::is_floating_point_v<T>) return;
    const T& value = config.*(f.member);
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      const auto left_unset = [&](const T& v, const T& d) {
        return v == d || (std::isnan(static_cast<double>(v)) && std::isnan(static_cast<double>(d)));
      };
      NABLA_CHECK(
          !left_unset(value, defaults.*(f.member)) || f.bounds.contains(static_cast<double>(value)),
          "{}: {} is required (must be {})", owner, f.name, f.bounds.text());
    }
    detail::check_bounds(owner, f.name, value, f.bounds);
  });
}

}  // namespace nabla
