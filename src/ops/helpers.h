// Small helpers shared by the op implementations.
#pragma once

#include <vector>

#include "nabla/tensor.h"

namespace nabla::ops {

// A new tensor viewing `base`'s storage with the given layout (not recorded by autograd).
Tensor make_view(const Tensor& base, Shape shape, std::vector<int64_t> strides, int64_t offset);
Tensor empty_like(const Tensor& t);
// The view of `t` broadcast to `shape` (stride 0 along expanded dims), without autograd.
Tensor broadcast_view(const Tensor& t, const Shape& shape);

void check_float(const Tensor& t, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);

}  // namespace nabla::ops
