// Copies between layouts and fills. Conventions: "contiguous" arguments start at data<T>(); others
// are read through their strides.
#pragma once

#include <cstdint>

#include "backend/dispatch.h"
#include "nabla/tensor.h"

namespace nabla::backend {

// dst = src elementwise, any strides on both sides, same shape, same device; converts dtype.
NABLA_DECLARE_STUB(copy_strided_stub, void(const Tensor& src, const Tensor& dst));
NABLA_DECLARE_STUB(fill_stub, void(const Tensor& out, double value));  // out contiguous

}  // namespace nabla::backend
