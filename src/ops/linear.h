// The linear layer's op as the library uses it internally: y = act(x W^T + b) with the bias and
// the activation fused into one pass over the GEMM output, and the backend stubs of that pass.
// nabla::linear is this op without activation; nn::Sequential runs a Linear followed by a ReLU
// through it.
#pragma once

#include "kernels/linear.h"
#include "nabla/tensor.h"
#include "ops/dispatch.h"

namespace nabla::ops {

using kernels::Activation;

// y (n, out) = act(y + bias) in place; bias (out) may be null.
NABLA_DECLARE_STUB(bias_activation_stub,
                   void(float* y, const float* bias, int64_t n, int64_t out, Activation act));

// From dy and y (n, out): dz = dy * act'(y) (skipped when dz is null), and dbias (out) += the
// column sums of dz (skipped when dbias is null). dz may alias dy.
NABLA_DECLARE_STUB(bias_activation_backward_stub,
                   void(const float* dy, const float* y, float* dz, float* dbias, int64_t n,
                        int64_t out, Activation act));

// y = act(x W^T + b) for x (..., in), weight (out, in), bias (out) or undefined. The backward
// adds dW and db straight into the parameters' existing .grad (the flat arena) when they have one.
Tensor linear_activation(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act);

}  // namespace nabla::ops
