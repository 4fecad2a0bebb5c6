// Direct 2-D convolution for small channel counts (groups of 1, stride 1), where im2col + GEMM
// would make one tiny GEMM per image. Every pass is split across threads by images (forward, input
// gradient) or by (output, input) channel pairs (weight gradient, summed over images in order),
// so results do not depend on the thread count.
#pragma once

#include "backend/conv.h"

namespace nabla::cpu {

// True when the direct kernels are the faster choice for this geometry.
bool use_direct_conv(const backend::Conv2dGeometry& g);

// x (N, C_in, H, W), w (C_out, C_in, kH, kW), bias (C_out) or null -> y (N, C_out, OH, OW).
void conv2d_direct_forward(const float* x, const float* w, const float* bias, float* y,
                           const backend::Conv2dGeometry& g);
// dy (N, C_out, OH, OW), w -> dx (N, C_in, H, W), overwritten.
void conv2d_direct_backward_data(const float* dy, const float* w, float* dx,
                                 const backend::Conv2dGeometry& g);
// dy, x -> dw (C_out, C_in, kH, kW), overwritten.
void conv2d_direct_backward_filter(const float* dy, const float* x, float* dw,
                                   const backend::Conv2dGeometry& g);

}  // namespace nabla::cpu
