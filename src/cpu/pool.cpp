// CPU max and average pooling over (N, C, H, W), one plane per task. The window arithmetic
// (kernels/nn/pool.h, shared with the CUDA kernels) follows PyTorch's CPU kernels exactly.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "cpu/loops.h"
#include "kernels/nn/pool.h"
#include "nn/functional_stubs.h"

namespace nabla::cpu {
namespace {

using nn::Pool2dGeometry;

using kernels::pool_window;
using kernels::PoolWindow;

// Runs body(plane) for every (n, c) plane, split across threads by planes.
template <typename F>
void for_each_plane(const Pool2dGeometry& g, F&& body) {
  const int64_t work = std::max<int64_t>(1, g.h * g.w + g.out_h * g.out_w);
  parallel_for(g.n * g.c, std::max<int64_t>(1, kParallelGrain / work), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) body(p);
  });
}

void max_pool2d_forward_cpu(const Tensor& x, const Tensor& y, const Tensor& indices,
                            const Pool2dGeometry& g) {
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  int64_t* ip = indices.data<int64_t>();
  for_each_plane(g, [&](int64_t plane) {
    const float* in = xp + plane * g.h * g.w;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      float* out = yp + (plane * g.out_h + oy) * g.out_w;
      int64_t* idx = ip + (plane * g.out_h + oy) * g.out_w;
      // Ties keep the first position; a NaN wins (and propagates), as in PyTorch.
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        const PoolWindow w = pool_window(g, oy, ox, false);
        out[ox] = -std::numeric_limits<float>::infinity();
        idx[ox] = w.y0 * g.w + w.x0;
      }
      // The window is scanned in row-major order for every output, with the outputs of the row
      // innermost: their comparisons are independent, so they overlap instead of waiting on one
      // another. The select is on bits: on real data the comparison is a coin flip, and
      // compilers turn a conditional select back into a branch.
      const PoolWindow rows = pool_window(g, oy, 0, false);  // y0, y1 do not depend on ox
      for (int64_t iy = rows.y0; iy < rows.y1; ++iy) {
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          for (int64_t ox = 0; ox < g.out_w; ++ox) {
            const int64_t ix = ox * g.stride_w - g.pad_w + kx;
            if (ix < 0 || ix >= g.w) continue;
            const int64_t pos = iy * g.w + ix;
            const float v = in[pos];
            const int64_t take = -static_cast<int64_t>((v > out[ox]) | std::isnan(v));
            const uint32_t take32 = static_cast<uint32_t>(take);
            out[ox] = std::bit_cast<float>((std::bit_cast<uint32_t>(v) & take32) |
                                           (std::bit_cast<uint32_t>(out[ox]) & ~take32));
            idx[ox] = (pos & take) | (idx[ox] & ~take);
          }
        }
      }
    }
  });
}

void max_pool2d_backward_cpu(const Tensor& dy, const Tensor& indices, const Tensor& dx,
                             const Pool2dGeometry& g) {
  const float* dyp = dy.data<float>();
  const int64_t* ip = indices.data<int64_t>();
  float* dxp = dx.data<float>();
  for_each_plane(g, [&](int64_t plane) {
    float* d = dxp + plane * g.h * g.w;
    std::fill(d, d + g.h * g.w, 0.0f);
    const int64_t o = plane * g.out_h * g.out_w;
    for (int64_t i = 0; i < g.out_h * g.out_w; ++i) d[ip[o + i]] += dyp[o + i];
  });
}

void avg_pool2d_forward_cpu(const Tensor& x, const Tensor& y, const Pool2dGeometry& g,
                            bool count_include_pad) {
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  for_each_plane(g, [&](int64_t plane) {
    const float* in = xp + plane * g.h * g.w;
    float* out = yp + plane * g.out_h * g.out_w;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        const PoolWindow a = pool_window(g, oy, ox, count_include_pad);
        float sum = 0.0f;
        for (int64_t iy = a.y0; iy < a.y1; ++iy)
          for (int64_t ix = a.x0; ix < a.x1; ++ix) sum += in[iy * g.w + ix];
        out[oy * g.out_w + ox] = sum / a.divisor;
      }
    }
  });
}

void avg_pool2d_backward_cpu(const Tensor& dy, const Tensor& dx, const Pool2dGeometry& g,
                             bool count_include_pad) {
  const float* dyp = dy.data<float>();
  float* dxp = dx.data<float>();
  for_each_plane(g, [&](int64_t plane) {
    float* d = dxp + plane * g.h * g.w;
    std::fill(d, d + g.h * g.w, 0.0f);
    const float* gout = dyp + plane * g.out_h * g.out_w;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        const PoolWindow a = pool_window(g, oy, ox, count_include_pad);
        const float share = gout[oy * g.out_w + ox] / a.divisor;
        for (int64_t iy = a.y0; iy < a.y1; ++iy)
          for (int64_t ix = a.x0; ix < a.x1; ++ix) d[iy * g.w + ix] += share;
      }
    }
  });
}

}  // namespace
}  // namespace nabla::cpu

namespace nabla::nn {
NABLA_REGISTER(max_pool2d_forward_stub, cpu, cpu::max_pool2d_forward_cpu)
NABLA_REGISTER(max_pool2d_backward_stub, cpu, cpu::max_pool2d_backward_cpu)
NABLA_REGISTER(avg_pool2d_forward_stub, cpu, cpu::avg_pool2d_forward_cpu)
NABLA_REGISTER(avg_pool2d_backward_stub, cpu, cpu::avg_pool2d_backward_cpu)
}  // namespace nabla::nn
