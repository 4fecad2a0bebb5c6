// Max and average pooling (the window arithmetic in kernels/math/pool.h). Every tensor argument is
// contiguous float32 unless said otherwise; an "optional" tensor may be undefined, and an undefined
// output means "not needed".
#pragma once

#include <cstdint>

#include "backend/dispatch.h"
#include "nabla/tensor.h"

namespace nabla::backend {

// Pooling over the planes of x (N, C, H, W) -> y (N, C, OH, OW); padding as PyTorch's.
struct Pool2dGeometry {
  int64_t n = 0, c = 0, h = 0, w = 0;
  int64_t kh = 0, kw = 0, stride_h = 0, stride_w = 0, pad_h = 0, pad_w = 0;
  int64_t out_h = 0, out_w = 0;
};
// indices (N, C, OH, OW) int64: the argmax as ih * W + iw within its plane (as PyTorch).
NABLA_DECLARE_STUB(max_pool2d_forward_stub, void(const Tensor& x, const Tensor& y,
                                                 const Tensor& indices, const Pool2dGeometry& g));
// dx (overwritten) gets each dy at its saved argmax.
NABLA_DECLARE_STUB(max_pool2d_backward_stub, void(const Tensor& dy, const Tensor& indices,
                                                  const Tensor& dx, const Pool2dGeometry& g));
NABLA_DECLARE_STUB(avg_pool2d_forward_stub, void(const Tensor& x, const Tensor& y,
                                                 const Pool2dGeometry& g, bool count_include_pad));
NABLA_DECLARE_STUB(avg_pool2d_backward_stub, void(const Tensor& dy, const Tensor& dx,
                                                  const Pool2dGeometry& g, bool count_include_pad));

}  // namespace nabla::backend
