// The epilogue of a linear layer, y = act(x W^T + b): the bias and the activation fused into one
// pass over the GEMM output (the math in kernels/math/linear.h).
#pragma once

#include <cstdint>

#include "backend/dispatch.h"
#include "kernels/math/linear.h"

namespace nabla::backend {

using kernels::Activation;

// y (n, out) = act(y + bias) in place; bias (out) may be null.
NABLA_DECLARE_STUB(bias_activation_stub,
                   void(float* y, const float* bias, int64_t n, int64_t out, Activation act));

// From dy and y (n, out): dz = dy * act'(y) (skipped when dz is null), and dbias (out) += the
// column sums of dz (skipped when dbias is null). dz may alias dy.
NABLA_DECLARE_STUB(bias_activation_backward_stub,
                   void(const float* dy, const float* y, float* dz, float* dbias, int64_t n,
                        int64_t out, Activation act));

}  // namespace nabla::backend
