// Small helpers shared by the op implementations.
#pragma once

#include <vector>

#include "nabla/precision.h"
#include "nabla/tensor.h"

namespace nabla::ops {

// A new tensor viewing `base`'s storage with the given layout (not recorded by autograd).
Tensor make_view(const Tensor& base, Shape shape, std::vector<int64_t> strides, int64_t offset);
Tensor empty_like(const Tensor& t);
// The view of `t` broadcast to `shape` (stride 0 along expanded dims), without autograd.
Tensor broadcast_view(const Tensor& t, const Shape& shape);

void check_float(const Tensor& t, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);

// A matrix product or convolution under the calling thread's autocast rule (nabla/precision.h):
// product(round(a), round(b), round(bias)), rounded; product(a, b, bias) under fp32.
template <typename Product>
Tensor autocast_product(const Tensor& a, const Tensor& b, const Tensor& bias, Product product) {
  const Precision p = autocast_precision();
  if (p == Precision::fp32) return product(a, b, bias);
  return round_to(product(round_to(a, p), round_to(b, p), round_to(bias, p)), p);
}

}  // namespace nabla::ops
