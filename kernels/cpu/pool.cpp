// CPU max and average pooling over (N, C, H, W), one plane per task. The window arithmetic
// (kernels/math/pool.h, shared with the CUDA kernels) follows PyTorch's CPU kernels exactly.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "backend/pool.h"
#include "kernels/cpu/loops.h"
#include "kernels/math/pool.h"

namespace nabla::cpu {
namespace {

using backend::Pool2dGeometry;

using kernels::pool_window;
using kernels::PoolWindow;

// Runs body(plane) for every (n, c) plane, split across threads by planes.
template <typename F>
void for_each_plane(const backend::Pool2dGeometry& g, F&& body) {
  const int64_t work = std::max<int64_t>(1, g.h * g.w + g.out_h * g.out_w);
  parallel_for(g.n * g.c, std::max<int64_t>(1, kParallelGrain / work), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) body(p);
  });
}

// One window position against the running max of one output. Ties keep the first position; a
// NaN wins (and propagates), as in PyTorch. The select is on bits: on real data the comparison
// is a coin flip, and compilers turn a conditional select back into a branch.
inline void max_step(float v, int64_t pos, float& out, int64_t& idx) {
  const int64_t take = -static_cast<int64_t>((v > out) | std::isnan(v));
  const uint32_t take32 = static_cast<uint32_t>(take);
  out = std::bit_cast<float>((std::bit_cast<uint32_t>(v) & take32) |
                             (std::bit_cast<uint32_t>(out) & ~take32));
  idx = (pos & take) | (idx & ~take);
}

// max_step for n outputs at once: output k sees value v[k] at position base[k] + tap. Contiguous
// operands, so it vectorises (cpu/loops.h clones).
NABLA_VECTOR_CLONES void max_step_block(const float* __restrict v, const int64_t* __restrict base,
                                        int64_t tap, float* __restrict out, int64_t* __restrict idx,
                                        int64_t n) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) max_step(v[k], base[k] + tap, out[k], idx[k]);
}

// Without padding every window lies inside its plane: output o's window starts at base[o] =
// oy stride_h W + ox stride_w, and tap (ky, kx) reads base[o] + ky W + kx. Rows of outputs are
// short (14 and 7 in a small CNN), too short for vectors, so the outputs of a whole plane are
// taken in blocks: per tap, the block's values are first gathered into a contiguous buffer, then
// stepped together. The taps still go in row-major order for every output.
void max_pool2d_forward_unpadded(const float* xp, float* yp, int64_t* ip,
                                 const backend::Pool2dGeometry& g) {
  const int64_t plane_out = g.out_h * g.out_w;
  const Tensor base_t = Tensor::empty({plane_out}, {DType::Int64});
  int64_t* base = base_t.data<int64_t>();
  for (int64_t oy = 0; oy < g.out_h; ++oy)
    for (int64_t ox = 0; ox < g.out_w; ++ox)
      base[oy * g.out_w + ox] = oy * g.stride_h * g.w + ox * g.stride_w;
  constexpr int64_t kBlock = 256;
  for_each_plane(g, [&](int64_t plane) {
    const float* in = xp + plane * g.h * g.w;
    float values[kBlock];
    for (int64_t b = 0; b < plane_out; b += kBlock) {
      const int64_t n = std::min(kBlock, plane_out - b);
      float* out = yp + plane * plane_out + b;
      int64_t* idx = ip + plane * plane_out + b;
      std::fill(out, out + n, -std::numeric_limits<float>::infinity());
      std::copy_n(base + b, n, idx);
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t tap = ky * g.w + kx;
          for (int64_t k = 0; k < n; ++k) values[k] = in[base[b + k] + tap];
          max_step_block(values, base + b, tap, out, idx, n);
        }
      }
    }
  });
}

void max_pool2d_forward_cpu(const Tensor& x, const Tensor& y, const Tensor& indices,
                            const backend::Pool2dGeometry& g) {
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  int64_t* ip = indices.data<int64_t>();
  if (g.pad_h == 0 && g.pad_w == 0) return max_pool2d_forward_unpadded(xp, yp, ip, g);
  for_each_plane(g, [&](int64_t plane) {
    const float* in = xp + plane * g.h * g.w;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      float* out = yp + (plane * g.out_h + oy) * g.out_w;
      int64_t* idx = ip + (plane * g.out_h + oy) * g.out_w;
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        const PoolWindow w = pool_window(g, oy, ox, false);
        out[ox] = -std::numeric_limits<float>::infinity();
        idx[ox] = w.y0 * g.w + w.x0;
      }
      // The window is scanned in row-major order for every output, with the outputs of the row
      // innermost: their comparisons are independent, so they overlap instead of waiting on one
      // another.
      const PoolWindow rows = pool_window(g, oy, 0, false);  // y0, y1 do not depend on ox
      for (int64_t iy = rows.y0; iy < rows.y1; ++iy) {
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          for (int64_t ox = 0; ox < g.out_w; ++ox) {
            const int64_t ix = ox * g.stride_w - g.pad_w + kx;
            if (ix < 0 || ix >= g.w) continue;
            const int64_t pos = iy * g.w + ix;
            max_step(in[pos], pos, out[ox], idx[ox]);
          }
        }
      }
    }
  });
}

void max_pool2d_backward_cpu(const Tensor& dy, const Tensor& indices, const Tensor& dx,
                             const backend::Pool2dGeometry& g) {
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

void avg_pool2d_forward_cpu(const Tensor& x, const Tensor& y, const backend::Pool2dGeometry& g,
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

void avg_pool2d_backward_cpu(const Tensor& dy, const Tensor& dx, const backend::Pool2dGeometry& g,
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

namespace nabla::backend {
NABLA_REGISTER(max_pool2d_forward_stub, cpu, cpu::max_pool2d_forward_cpu)
NABLA_REGISTER(max_pool2d_backward_stub, cpu, cpu::max_pool2d_backward_cpu)
NABLA_REGISTER(avg_pool2d_forward_stub, cpu, cpu::avg_pool2d_forward_cpu)
NABLA_REGISTER(avg_pool2d_backward_stub, cpu, cpu::avg_pool2d_backward_cpu)
}  // namespace nabla::backend
