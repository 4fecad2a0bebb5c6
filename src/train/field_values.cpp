// Field values from text and checkpoints, and as JSON and help text (field_values.h).
#include "train/field_values.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace nabla::train::detail {

namespace {
// The whole string as a number, or nullopt.
std::optional<double> parse_double(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

int64_t Value::whole(double v) const {
  NABLA_CHECK(v >= -0x1p63 && v < 0x1p63 && v == std::trunc(v), "{} expects a whole number, got {}",
              where_, v);
  return static_cast<int64_t>(v);
}

std::vector<int64_t> Value::integers() const {
  std::vector<int64_t> out;
  for (double v : numbers()) out.push_back(whole(v));
  return out;
}

bool TextValue::boolean() const {
  if (text_ == "true" || text_ == "1" || text_ == "yes" || text_ == "on") return true;
  if (text_ == "false" || text_ == "0" || text_ == "no" || text_ == "off") return false;
  NABLA_FAIL("{} expects true or false, got '{}'", where(), text_);
}

std::vector<double> TextValue::numbers() const {
  std::vector<double> out;
  std::stringstream ss(text_);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(parse_number(item));
  NABLA_CHECK(!out.empty(), "{} expects a list of numbers, got '{}'", where(), text_);
  return out;
}

double TextValue::parse_number(const std::string& s) const {
  const std::optional<double> v = parse_double(s);
  NABLA_CHECK(v.has_value(), "{} expects a number, got '{}'", where(), s);
  return *v;
}

double JsonValue::number() const {
  if (j_.is_number()) return j_.get<double>();
  if (j_.is_string())
    if (auto v = parse_double(j_.get_ref<const std::string&>())) return *v;
  NABLA_FAIL("{} expects a number, got {}", where(), j_.dump());
}

bool JsonValue::boolean() const {
  NABLA_CHECK(j_.is_boolean(), "{} expects true or false, got {}", where(), j_.dump());
  return j_.get<bool>();
}

std::string JsonValue::text() const {
  NABLA_CHECK(j_.is_string(), "{} expects a string, got {}", where(), j_.dump());
  return j_.get<std::string>();
}

std::vector<double> JsonValue::numbers() const {
  if (!j_.is_array()) return {number()};
  std::vector<double> out;
  for (const nlohmann::json& e : j_) out.push_back(JsonValue(where(), e).number());
  return out;
}

void read(const Value& v, uint64_t& out) {
  const int64_t n = v.integer();
  NABLA_CHECK(n >= 0, "{} must be >= 0, got {}", v.where(), n);
  out = static_cast<uint64_t>(n);
}

void read(const Value& v, std::array<double, 2>& out) {
  const std::vector<double> b = v.numbers();
  NABLA_CHECK(b.size() == 2, "{} expects two numbers, got {}", v.where(), b.size());
  out = {b[0], b[1]};
}

nlohmann::json to_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

nlohmann::json to_json(const std::array<double, 2>& v) {
  return nlohmann::json::array({to_json(v[0]), to_json(v[1])});
}

nlohmann::json to_json(const sched::PerGroup& v) {
  nlohmann::json out = nlohmann::json::array();
  for (double x : v.values) out.push_back(to_json(x));
  return out;
}

std::string to_text(double v) {
  return std::isnan(v) ? "none" : fmt::format("{:g}", v);
}

std::string to_text(const std::array<double, 2>& v) {
  return fmt::format("{:g},{:g}", v[0], v[1]);
}

std::string to_text(const std::vector<int64_t>& v) {
  return v.empty() ? "none" : fmt::format("{}", fmt::join(v, ","));
}

std::string to_text(const sched::PerGroup& v) {
  return v.values.empty() ? "none" : fmt::format("{:g}", fmt::join(v.values, ","));
}

}  // namespace nabla::train::detail
