// Convolution, in the calls cuDNN offers (forward / backward data / backward filter / backward
// bias). Every tensor argument is contiguous float32 unless said otherwise; an "optional" tensor
// may be undefined, and an undefined output means "not needed".
#pragma once

#include <cstdint>

#include "backend/dispatch.h"
#include "nabla/tensor.h"

namespace nabla::backend {

// x (N, C_in, H, W), weight (C_out, C_in / groups, kH, kW), y (N, C_out, OH, OW).
struct Conv2dGeometry {
  int64_t n = 0, c_in = 0, h = 0, w = 0;
  int64_t c_out = 0, kh = 0, kw = 0;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  int64_t out_h = 0, out_w = 0;
};
// y = conv(x, weight) + bias (bias optional).
NABLA_DECLARE_STUB(conv2d_forward_stub,
                   void(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& y,
                        const Conv2dGeometry& g));
// dx = conv_transpose(dy, weight) (overwritten).
NABLA_DECLARE_STUB(conv2d_backward_data_stub, void(const Tensor& dy, const Tensor& weight,
                                                   const Tensor& dx, const Conv2dGeometry& g));
// dweight = sum over images of dy (x) im2col(x) (overwritten).
NABLA_DECLARE_STUB(conv2d_backward_filter_stub,
                   void(const Tensor& dy, const Tensor& x, const Tensor& dweight,
                        const Conv2dGeometry& g));
// dbias (C_out) = sum of dy over N, OH, OW (overwritten).
NABLA_DECLARE_STUB(conv2d_backward_bias_stub,
                   void(const Tensor& dy, const Tensor& dbias, const Conv2dGeometry& g));

}  // namespace nabla::backend
