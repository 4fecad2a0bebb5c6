// The epilogue of a linear layer, y = act(x W^T + b), written once for the CPU loops
// (kernels/cpu/linear.cpp) and the CUDA kernels (kernels/cuda/linear.cu): the bias and the
// activation applied to the GEMM output in one pass, and in the backward the activation's
// derivative taken from the output y (no pre-activation is kept).
#pragma once

#include <cstdint>

#include "kernels/math/hd.h"

namespace nabla::kernels {

enum class Activation : uint8_t { None, Relu };

// y = act(z).
NABLA_HD float activation_forward(Activation act, float z) {
  return act == Activation::Relu ? (z > 0.0f ? z : 0.0f) : z;
}

// dz = dy * act'(z), from y = act(z): relu'(z) = [y > 0].
NABLA_HD float activation_backward(Activation act, float y, float dy) {
  return act == Activation::Relu ? (y > 0.0f ? dy : 0.0f) : dy;
}

}  // namespace nabla::kernels
