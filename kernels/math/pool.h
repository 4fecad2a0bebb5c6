// Pooling window arithmetic shared by the CPU loops (kernels/cpu/pool.cpp) and the CUDA kernels
// (kernels/cuda/pool.cu), following PyTorch's kernels: padding never wins a max, and the average
// divides by the padded or the clipped window size.
#pragma once

#include <cstdint>

#include "kernels/math/hd.h"

namespace nabla::kernels {

// Rows [y0, y1) and columns [x0, x1) of the input that output (oy, ox) pools over (clipped to
// the input), and the divisor of its average.
struct PoolWindow {
  int64_t y0, y1, x0, x1;
  float divisor;
};

// Geometry is backend::Pool2dGeometry (h, w, kh, kw, stride_h/w, pad_h/w).
template <typename Geometry>
NABLA_HD PoolWindow pool_window(const Geometry& g, int64_t oy, int64_t ox, bool count_include_pad) {
  const int64_t y0 = oy * g.stride_h - g.pad_h, x0 = ox * g.stride_w - g.pad_w;
  const int64_t y1 = y0 + g.kh, x1 = x0 + g.kw;
  // The padded window stops at the padding's edge (matters when stride > 1).
  const int64_t py1 = y1 < g.h + g.pad_h ? y1 : g.h + g.pad_h;
  const int64_t px1 = x1 < g.w + g.pad_w ? x1 : g.w + g.pad_w;
  PoolWindow p{y0 > 0 ? y0 : 0, y1 < g.h ? y1 : g.h, x0 > 0 ? x0 : 0, x1 < g.w ? x1 : g.w, 0.0f};
  const int64_t count = count_include_pad ? (py1 - y0) * (px1 - x0) : (p.y1 - p.y0) * (p.x1 - p.x0);
  p.divisor = static_cast<float>(count);
  return p;
}

}  // namespace nabla::kernels
