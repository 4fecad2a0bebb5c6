#include "nabla/state.h"

#include <cmath>

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

const std::string& State::string(const std::string& key, const char* what) const {
  return lookup(strings, key, what, "entry");
}
const Tensor& State::tensor(const std::string& key, const char* what) const {
  return lookup(tensors, key, what, "tensor");
}

}  // namespace nabla
