#include "nabla/state.h"

#include <cmath>
#include <limits>

namespace nabla {

namespace {
template <typename Map>
const typename Map::mapped_type& lookup(const Map& map, const std::string& key, const char* what,
                                        const char* kind) {
  auto it = map.find(key);
  NABLA_CHECK(it != map.end(), "{}: the saved state has no {} '{}'", what, kind, key);
  return it->second;
}
}  // namespace

double State::scalar(const std::string& key, const char* what) const {
  return lookup(scalars, key, what, "value");
}
int64_t State::count(const std::string& key, const char* what, int64_t min) const {
  const double v = scalar(key, what);
  NABLA_CHECK(v >= static_cast<double>(min) && v <= 0x1p53 && v == std::trunc(v),
              "{}: the saved '{}' is {}, expected a whole number from {} (a corrupted file?)", what,
              key, v, min);
  return static_cast<int64_t>(v);
}

double State::finite(const std::string& key, const char* what, double min) const {
  const double v = scalar(key, what);
  NABLA_CHECK(std::isfinite(v) && v >= min,
              "{}: the saved '{}' is {}, expected a finite number{} (a corrupted file?)", what, key,
              v, std::isfinite(min) ? fmt::format(" of at least {}", min) : "");
  return v;
}

void State::set_extended(const std::string& key, double value) {
  const bool inf = std::isinf(value);
  scalars[key] = inf ? 0.0 : value;
  scalars[key + ".inf"] = inf ? (value > 0 ? 1.0 : -1.0) : 0.0;
}

double State::extended(const std::string& key, const char* what) const {
  const double inf = scalar(key + ".inf", what);
  NABLA_CHECK(inf == 0.0 || inf == 1.0 || inf == -1.0,
              "{}: the saved '{}.inf' is {}, expected -1, 0 or 1 (a corrupted file?)", what, key,
              inf);
  if (inf == 0.0) return finite(key, what);
  return inf > 0 ? std::numeric_limits<double>::infinity()
                 : -std::numeric_limits<double>::infinity();
}

const std::string& State::string(const std::string& key, const char* what) const {
  return lookup(strings, key, what, "entry");
}
const Tensor& State::tensor(const std::string& key, const char* what) const {
  return lookup(tensors, key, what, "tensor");
}

}  // namespace nabla
