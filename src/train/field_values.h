// A config field's value read from text, a TOML node or a checkpoint's JSON, and written as JSON
// or as text for --help, by the field's C++ type; and a config's fields set and recorded through
// its table (nabla/fields.h). Private to src/train/.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nabla/fields.h"
#include "nabla/sched/scheduler.h"

namespace nabla::train::detail {

// A value from one of the sources; `where` names it in messages ("--lr", "'optimizer.lr' in
// run.toml", "the checkpoint 'x': optimizer.lr").
class Value {
 public:
  explicit Value(std::string where) : where_(std::move(where)) {}
  virtual ~Value() = default;
  virtual double number() const = 0;
  virtual bool boolean() const = 0;
  virtual std::string text() const = 0;
  virtual std::vector<double> numbers() const = 0;
  const std::string& where() const { return where_; }

  // A whole number: converting a double outside int64's range (or NaN) is undefined, so the
  // range is checked first.
  int64_t integer() const { return whole(number()); }
  std::vector<int64_t> integers() const;

 private:
  int64_t whole(double v) const;
  std::string where_;
};

// A command-line value: text parsed into the type the field wants.
class TextValue : public Value {
 public:
  TextValue(std::string where, std::string text)
      : Value(std::move(where)), text_(std::move(text)) {}
  double number() const override { return parse_number(text_); }
  bool boolean() const override;
  std::string text() const override { return text_; }
  std::vector<double> numbers() const override;

 private:
  double parse_number(const std::string& s) const;
  std::string text_;
};

// A value a checkpoint recorded: non-finite numbers and the seed are strings there.
class JsonValue : public Value {
 public:
  JsonValue(std::string where, const nlohmann::json& j) : Value(std::move(where)), j_(j) {}
  double number() const override;
  bool boolean() const override;
  std::string text() const override;
  std::vector<double> numbers() const override;

 private:
  const nlohmann::json& j_;
};

// ---- reading a value of each field type

inline void read(const Value& v, double& out) {
  out = v.number();
}
inline void read(const Value& v, bool& out) {
  out = v.boolean();
}
inline void read(const Value& v, int64_t& out) {
  out = v.integer();
}
void read(const Value& v, uint64_t& out);
inline void read(const Value& v, std::string& out) {
  out = v.text();
}
inline void read(const Value& v, std::optional<int64_t>& out) {
  out = v.integer();
}
void read(const Value& v, std::array<double, 2>& out);
inline void read(const Value& v, std::vector<int64_t>& out) {
  out = v.integers();
}
inline void read(const Value& v, sched::PerGroup& out) {
  out.values = v.numbers();
}
template <NamedEnum E>
void read(const Value& v, E& out) {
  const std::string text = v.text();
  const std::optional<E> e = enum_value<E>(text);
  NABLA_CHECK(e.has_value(), "{}: unknown value '{}' (expected one of: {})", v.where(), text,
              enum_choices<E>());
  out = *e;
}

// The value, checked against the field's range with a message naming where it came from.
template <typename T>
void check_range(const Value& v, const T& value, const Bounds& b) {
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    NABLA_CHECK(b.contains(static_cast<double>(value)), "{} must be {}, got {}", v.where(),
                b.text(), value);
  } else if constexpr (requires { value.has_value(); }) {
    if (value) check_range(v, *value, b);
  } else if constexpr (requires { value.values; }) {
    check_range(v, value.values, b);
  } else if constexpr (requires {
                         value.size();
                         value[0] + 0;
                       }) {
    for (const auto& x : value)
      NABLA_CHECK(b.contains(static_cast<double>(x)), "{} must be {}, got {}", v.where(), b.text(),
                  x);
  }
}

// ---- writing a value as JSON (non-finite numbers as "inf", "-inf", "nan"; the seed as a string,
// since JSON readers hold numbers as doubles)

nlohmann::json to_json(double v);
inline nlohmann::json to_json(bool v) {
  return v;
}
inline nlohmann::json to_json(int64_t v) {
  return v;
}
inline nlohmann::json to_json(uint64_t v) {
  return std::to_string(v);
}
inline nlohmann::json to_json(const std::string& v) {
  return v;
}
inline nlohmann::json to_json(const std::optional<int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
nlohmann::json to_json(const std::array<double, 2>& v);
inline nlohmann::json to_json(const std::vector<int64_t>& v) {
  return v;
}
nlohmann::json to_json(const sched::PerGroup& v);
template <NamedEnum E>
nlohmann::json to_json(E v) {
  return enum_name(v);
}

// ---- writing a value as --help shows a default ("0.9", "256,128", "on", "none")

std::string to_text(double v);
inline std::string to_text(bool v) {
  return v ? "on" : "off";
}
inline std::string to_text(int64_t v) {
  return std::to_string(v);
}
inline std::string to_text(uint64_t v) {
  return std::to_string(v);
}
inline std::string to_text(const std::string& v) {
  return v.empty() ? "none" : v;
}
inline std::string to_text(const std::optional<int64_t>& v) {
  return v ? std::to_string(*v) : "none";
}
std::string to_text(const std::array<double, 2>& v);
std::string to_text(const std::vector<int64_t>& v);
std::string to_text(const sched::PerGroup& v);
template <NamedEnum E>
std::string to_text(E v) {
  return enum_name(v);
}

// "X", "N", "X,X", "N[,N...]", "min|max": how --help shows the value a flag takes.
template <typename T>
std::string value_name() {
  if constexpr (std::is_same_v<T, bool>) return "on|off";
  if constexpr (std::is_same_v<T, double>) return "X";
  if constexpr (std::is_integral_v<T> || std::is_same_v<T, std::optional<int64_t>>) return "N";
  if constexpr (std::is_same_v<T, std::string>) return "TEXT";
  if constexpr (std::is_same_v<T, std::array<double, 2>>) return "X,X";
  if constexpr (std::is_same_v<T, std::vector<int64_t>>) return "N[,N...]";
  if constexpr (std::is_same_v<T, sched::PerGroup>) return "X[,X...]";
  if constexpr (NamedEnum<T>) return enum_choices<T>("|");
  return "VALUE";
}

// ---- a config's fields by name, through its table

// Sets the field of `config` named `key` from `v`, checked against its range; false when C has
// no such field.
template <HasFields C>
bool set_field(C& config, const std::string& key, const Value& v) {
  bool found = false;
  for_each_field<C>([&](const auto& f) {
    if (found || key != f.name) return;
    auto value = config.*(f.member);
    read(v, value);
    check_range(v, value, f.bounds);
    config.*(f.member) = std::move(value);
    found = true;
  });
  return found;
}

// Writes every field of `config` into `j`, by name.
template <HasFields C>
void record_fields(const C& config, nlohmann::json& j) {
  for_each_field<C>([&](const auto& f) { j[f.name] = to_json(config.*(f.member)); });
}

}  // namespace nabla::train::detail
