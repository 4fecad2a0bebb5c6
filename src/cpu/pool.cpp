// CPU max and average pooling over (N, C, H, W), one plane per task. The window arithmetic
// follows PyTorch's CPU kernels exactly (padding never wins a max; the average divides by the
// padded or the clipped window size).
#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu/loops.h"
#include "nn/functional_stubs.h"

namespace nabla::cpu {
namespace {

using nn::Pool2dGeometry;

// The window of output (oy, ox): rows [y0, y1) and columns [x0, x1) of the padded input in
// input coordinates, before clipping.
struct Window {
  int64_t y0, y1, x0, x1;
};
Window window(const Pool2dGeometry& g, int64_t oy, int64_t ox) {
  const int64_t y0 = oy * g.stride_h - g.pad_h, x0 = ox * g.stride_w - g.pad_w;
  return {y0, y0 + g.kh, x0, x0 + g.kw};
}

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
    float* out = yp + plane * g.out_h * g.out_w;
    int64_t* idx = ip + plane * g.out_h * g.out_w;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        const Window w = window(g, oy, ox);
        const int64_t y0 = std::max<int64_t>(w.y0, 0), y1 = std::min(w.y1, g.h);
        const int64_t x0 = std::max<int64_t>(w.x0, 0), x1 = std::min(w.x1, g.w);
        // Ties keep the first position; a NaN wins (and propagates), as in PyTorch.
        int64_t best = y0 * g.w + x0;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t iy = y0; iy < y1; ++iy) {
          for (int64_t ix = x0; ix < x1; ++ix) {
            const float v = in[iy * g.w + ix];
            if (v > m || std::isnan(v)) m = v, best = iy * g.w + ix;
          }
        }
        out[oy * g.out_w + ox] = m;
        idx[oy * g.out_w + ox] = best;
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

// The divisor of output (oy, ox) and its clipped window.
struct AvgWindow {
  int64_t y0, y1, x0, x1;
  float divisor;
};
AvgWindow avg_window(const Pool2dGeometry& g, int64_t oy, int64_t ox, bool count_include_pad) {
  const Window w = window(g, oy, ox);
  // The padded window stops at the padding's edge (matters when stride > 1).
  const int64_t py1 = std::min(w.y1, g.h + g.pad_h), px1 = std::min(w.x1, g.w + g.pad_w);
  const int64_t padded = (py1 - w.y0) * (px1 - w.x0);
  AvgWindow a{std::max<int64_t>(w.y0, 0), std::min(w.y1, g.h), std::max<int64_t>(w.x0, 0),
              std::min(w.x1, g.w), 0.0f};
  a.divisor = static_cast<float>(count_include_pad ? padded : (a.y1 - a.y0) * (a.x1 - a.x0));
  return a;
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
        const AvgWindow a = avg_window(g, oy, ox, count_include_pad);
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
        const AvgWindow a = avg_window(g, oy, ox, count_include_pad);
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
