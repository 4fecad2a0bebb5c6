#include "nabla/state.h"

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
const std::string& State::string(const std::string& key, const char* what) const {
  return lookup(strings, key, what, "entry");
}
const Tensor& State::tensor(const std::string& key, const char* what) const {
  return lookup(tensors, key, what, "tensor");
}

}  // namespace nabla
