// CUDA max and average pooling over (N, C, H, W), mirroring kernels/cpu/pool.cpp through the shared
// window arithmetic of kernels/math/pool.h. The forward runs one thread per output. The backward
// runs one thread per input element that gathers from the outputs whose windows cover it, in
// the order the CPU scatters them, so both devices add the same terms in the same order (and no
// atomics are needed).
#include <cmath>

#include "backend/pool.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/math/pool.h"

namespace nabla::cuda_detail {
namespace {

using backend::Pool2dGeometry;
using kernels::pool_window;
using kernels::PoolWindow;

// ---------------------------------------------------------------- kernels

// Outputs [first, last] along one axis whose windows (size k, stride s, padding p) cover input
// position i; empty when first > last.
struct OutputRange {
  int64_t first, last;
};
__device__ __forceinline__ OutputRange covering(int64_t i, int64_t k, int64_t s, int64_t p,
                                                int64_t out) {
  // o s - p <= i < o s - p + k  <=>  (i + p - k) / s < o <= (i + p) / s
  const int64_t hi = (i + p) / s;
  const int64_t lo_num = i + p - k + 1;
  const int64_t lo = lo_num <= 0 ? 0 : (lo_num + s - 1) / s;
  return {lo, hi < out - 1 ? hi : out - 1};
}

// x, y, indices as (planes, H, W) and (planes, OH, OW).
__global__ void max_pool2d_forward_kernel(const float* x, float* y, int64_t* indices,
                                          backend::Pool2dGeometry g, int64_t total) {
  NABLA_GRID_STRIDE_LOOP(o, total) {
    const int64_t ox = o % g.out_w, oy = o / g.out_w % g.out_h, plane = o / (g.out_w * g.out_h);
    const float* in = x + plane * g.h * g.w;
    const PoolWindow w = pool_window(g, oy, ox, false);
    // Ties keep the first position; a NaN wins (and propagates), as on the CPU.
    int64_t best = w.y0 * g.w + w.x0;
    float m = -INFINITY;
    for (int64_t iy = w.y0; iy < w.y1; ++iy) {
      for (int64_t ix = w.x0; ix < w.x1; ++ix) {
        const float v = in[iy * g.w + ix];
        if (v > m || isnan(v)) m = v, best = iy * g.w + ix;
      }
    }
    y[o] = m;
    indices[o] = best;
  }
}

__global__ void max_pool2d_backward_kernel(const float* dy, const int64_t* indices, float* dx,
                                           backend::Pool2dGeometry g, int64_t total) {
  NABLA_GRID_STRIDE_LOOP(i, total) {
    const int64_t ix = i % g.w, iy = i / g.w % g.h, plane = i / (g.w * g.h);
    const int64_t base = plane * g.out_h * g.out_w, self = iy * g.w + ix;
    const OutputRange ry = covering(iy, g.kh, g.stride_h, g.pad_h, g.out_h);
    const OutputRange rx = covering(ix, g.kw, g.stride_w, g.pad_w, g.out_w);
    float acc = 0.0f;
    for (int64_t oy = ry.first; oy <= ry.last; ++oy)
      for (int64_t ox = rx.first; ox <= rx.last; ++ox) {
        const int64_t o = base + oy * g.out_w + ox;
        if (indices[o] == self) acc += dy[o];
      }
    dx[i] = acc;
  }
}

__global__ void avg_pool2d_forward_kernel(const float* x, float* y, backend::Pool2dGeometry g,
                                          bool count_include_pad, int64_t total) {
  NABLA_GRID_STRIDE_LOOP(o, total) {
    const int64_t ox = o % g.out_w, oy = o / g.out_w % g.out_h, plane = o / (g.out_w * g.out_h);
    const float* in = x + plane * g.h * g.w;
    const PoolWindow a = pool_window(g, oy, ox, count_include_pad);
    float sum = 0.0f;
    for (int64_t iy = a.y0; iy < a.y1; ++iy)
      for (int64_t ix = a.x0; ix < a.x1; ++ix) sum += in[iy * g.w + ix];
    y[o] = sum / a.divisor;
  }
}

__global__ void avg_pool2d_backward_kernel(const float* dy, float* dx, backend::Pool2dGeometry g,
                                           bool count_include_pad, int64_t total) {
  NABLA_GRID_STRIDE_LOOP(i, total) {
    const int64_t ix = i % g.w, iy = i / g.w % g.h, plane = i / (g.w * g.h);
    const float* gout = dy + plane * g.out_h * g.out_w;
    const OutputRange ry = covering(iy, g.kh, g.stride_h, g.pad_h, g.out_h);
    const OutputRange rx = covering(ix, g.kw, g.stride_w, g.pad_w, g.out_w);
    float acc = 0.0f;
    for (int64_t oy = ry.first; oy <= ry.last; ++oy)
      for (int64_t ox = rx.first; ox <= rx.last; ++ox) {
        // The clipped window holds (iy, ix) whenever the unclipped one does.
        const PoolWindow a = pool_window(g, oy, ox, count_include_pad);
        acc += gout[oy * g.out_w + ox] / a.divisor;
      }
    dx[i] = acc;
  }
}

// ---------------------------------------------------------------- launchers

void max_pool2d_forward_cuda(const Tensor& x, const Tensor& y, const Tensor& indices,
                             const backend::Pool2dGeometry& g) {
  const int64_t total = g.n * g.c * g.out_h * g.out_w;
  if (total == 0) return;
  max_pool2d_forward_kernel<<<linear_blocks(total), kBlockSize, 0, stream()>>>(
      x.data<float>(), y.data<float>(), indices.data<int64_t>(), g, total);
  NABLA_CUDA_CHECK_LAUNCH();
}

void max_pool2d_backward_cuda(const Tensor& dy, const Tensor& indices, const Tensor& dx,
                              const backend::Pool2dGeometry& g) {
  const int64_t total = g.n * g.c * g.h * g.w;
  if (total == 0) return;
  max_pool2d_backward_kernel<<<linear_blocks(total), kBlockSize, 0, stream()>>>(
      dy.data<float>(), indices.data<int64_t>(), dx.data<float>(), g, total);
  NABLA_CUDA_CHECK_LAUNCH();
}

void avg_pool2d_forward_cuda(const Tensor& x, const Tensor& y, const backend::Pool2dGeometry& g,
                             bool count_include_pad) {
  const int64_t total = g.n * g.c * g.out_h * g.out_w;
  if (total == 0) return;
  avg_pool2d_forward_kernel<<<linear_blocks(total), kBlockSize, 0, stream()>>>(
      x.data<float>(), y.data<float>(), g, count_include_pad, total);
  NABLA_CUDA_CHECK_LAUNCH();
}

void avg_pool2d_backward_cuda(const Tensor& dy, const Tensor& dx, const backend::Pool2dGeometry& g,
                              bool count_include_pad) {
  const int64_t total = g.n * g.c * g.h * g.w;
  if (total == 0) return;
  avg_pool2d_backward_kernel<<<linear_blocks(total), kBlockSize, 0, stream()>>>(
      dy.data<float>(), dx.data<float>(), g, count_include_pad, total);
  NABLA_CUDA_CHECK_LAUNCH();
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::backend {
NABLA_REGISTER(max_pool2d_forward_stub, cuda, cuda_detail::max_pool2d_forward_cuda)
NABLA_REGISTER(max_pool2d_backward_stub, cuda, cuda_detail::max_pool2d_backward_cuda)
NABLA_REGISTER(avg_pool2d_forward_stub, cuda, cuda_detail::avg_pool2d_forward_cuda)
NABLA_REGISTER(avg_pool2d_backward_stub, cuda, cuda_detail::avg_pool2d_backward_cuda)
}  // namespace nabla::backend
