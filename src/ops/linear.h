// The linear layer's op as the library uses it internally: y = act(x W^T + b) with the bias and
// the activation fused into one pass over the GEMM output.
// nabla::linear is this op without activation; nn::Sequential runs a Linear followed by a ReLU
// through it. The fused pass is backend/linear.h.
#pragma once

#include "kernels/math/linear.h"
#include "nabla/tensor.h"

namespace nabla::ops {

using kernels::Activation;

// y = act(x W^T + b) for x (..., in), weight (out, in), bias (out) or undefined. The backward
// adds dW and db straight into the parameters' existing .grad (the flat arena) when they have one.
Tensor linear_activation(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act);

}  // namespace nabla::ops
