// Random fills from the counter-based Philox stream (kernels/math/philox.h), the same numbers on
// every backend.
#pragma once

#include <cstdint>

#include "backend/dispatch.h"
#include "nabla/tensor.h"

namespace nabla::backend {

// out contiguous float32, element i from the Philox stream (seed, offset).
NABLA_DECLARE_STUB(rand_uniform_stub, void(const Tensor& out, uint64_t seed, uint64_t offset));
NABLA_DECLARE_STUB(rand_normal_stub, void(const Tensor& out, uint64_t seed, uint64_t offset));

}  // namespace nabla::backend
