// A tensor's sizes, outermost first. Negative indices count from the end.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace nabla {

struct Shape {
  std::vector<int64_t> dims;

  Shape() = default;
  Shape(std::initializer_list<int64_t> d) : dims(d) {}
  explicit Shape(std::vector<int64_t> d) : dims(std::move(d)) {}

  int64_t ndim() const { return static_cast<int64_t>(dims.size()); }
  int64_t numel() const;
  // dims[i], with i < 0 counted from the end; throws when out of range.
  int64_t operator[](int64_t i) const;
  // Normalises a possibly negative dimension index for this shape (throws when out of range).
  int64_t wrap_dim(int64_t dim) const;
  std::string str() const;  // "[2, 3]"
  bool operator==(const Shape&) const = default;

  auto begin() const { return dims.begin(); }
  auto end() const { return dims.end(); }
};

// Row-major strides for a contiguous tensor of this shape.
std::vector<int64_t> contiguous_strides(const Shape& shape);
// NumPy broadcasting of two shapes; throws naming `op` when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace nabla
