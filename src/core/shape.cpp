#include "nabla/shape.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "nabla/error.h"

namespace nabla {

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, d, &n)) {
      // The real count, for the message; it is beyond every machine's memory.
      long double real = 1;
      for (int64_t e : dims) real *= static_cast<long double>(e);
      NABLA_FAIL("shape {} has {:.4g} elements, more than 2^63: no tensor can hold them", str(),
                 static_cast<double>(real));
    }
  return n;
}

int64_t Shape::wrap_dim(int64_t dim) const {
  const int64_t n = ndim();
  NABLA_CHECK(dim >= -n && dim < n, "dimension {} is out of range for a tensor of shape {}", dim,
              str());
  return dim < 0 ? dim + n : dim;
}

int64_t Shape::operator[](int64_t i) const {
  return dims[static_cast<size_t>(wrap_dim(i))];
}

std::string Shape::str() const {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.dims.size());
  int64_t s = 1;
  for (size_t i = shape.dims.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape.dims[i];
  }
  return strides;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.dims.size(), b.dims.size());
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.dims.size() ? 1 : a.dims[i - (n - a.dims.size())];
    const int64_t db = i < n - b.dims.size() ? 1 : b.dims[i - (n - b.dims.size())];
    NABLA_CHECK(da == db || da == 1 || db == 1,
                "{}: shapes {} and {} cannot be broadcast together (dimension {}: {} vs {})", op,
                a.str(), b.str(), i, da, db);
    out[i] = da == 1 ? db : da;
  }
  return Shape(std::move(out));
}

}  // namespace nabla
