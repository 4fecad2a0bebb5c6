// Dropout's mask applied to a tensor (the mask in kernels/math/dropout.h). Every tensor argument is
// contiguous float32 unless said otherwise; an "optional" tensor may be undefined, and an undefined
// output means "not needed".
#pragma once

#include <cstdint>

#include "backend/dispatch.h"
#include "nabla/tensor.h"

namespace nabla::backend {

// out = keep(i) ? in * scale : 0, keep(i) from the Philox stream (seed, offset).
// The same call applies the mask to x in the forward and to dy in the backward.
NABLA_DECLARE_STUB(dropout_stub, void(const Tensor& in, const Tensor& out, float p, float scale,
                                      uint64_t seed, uint64_t offset));

}  // namespace nabla::backend
