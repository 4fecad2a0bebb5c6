// CPU 2-D convolution by im2col + GEMM: per image, the receptive fields are unrolled into one
// column buffer (C_in kH kW, OH OW), and each group's output is one GEMM with its weights. The
// backward for the input is GEMM + col2im; for the weights, GEMM accumulated over images.
// Images are processed one after another so that the whole call needs one column buffer.
// Small channel counts take the direct kernels of conv_direct.cpp instead.
#include <vector>

#include "backend/conv.h"
#include "backend/gemm.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/loops.h"

namespace nabla::cpu {
namespace {

using backend::Conv2dGeometry;

int64_t col_rows(const backend::Conv2dGeometry& g) {
  return g.c_in * g.kh * g.kw;
}
int64_t out_plane(const backend::Conv2dGeometry& g) {
  return g.out_h * g.out_w;
}

// col (C_in kH kW, OH OW) from one image x (C_in, H, W); zero where the field reads padding.
void im2col(const float* x, float* col, const backend::Conv2dGeometry& g) {
  const int64_t rows = col_rows(g), plane = out_plane(g);
  parallel_for(rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(plane, 1)),
               [&](int64_t begin, int64_t end) {
                 for (int64_t r = begin; r < end; ++r) {
                   const int64_t c = r / (g.kh * g.kw), i = r / g.kw % g.kh, j = r % g.kw;
                   const float* xc = x + c * g.h * g.w;
                   float* dst = col + r * plane;
                   for (int64_t oy = 0; oy < g.out_h; ++oy) {
                     const int64_t iy = oy * g.stride_h - g.pad_h + i * g.dilation_h;
                     float* row = dst + oy * g.out_w;
                     if (iy < 0 || iy >= g.h) {
                       std::fill(row, row + g.out_w, 0.0f);
                       continue;
                     }
                     for (int64_t ox = 0; ox < g.out_w; ++ox) {
                       const int64_t ix = ox * g.stride_w - g.pad_w + j * g.dilation_w;
                       row[ox] = (ix >= 0 && ix < g.w) ? xc[iy * g.w + ix] : 0.0f;
                     }
                   }
                 }
               });
}

// dx (C_in, H, W) = sum of col's entries at the positions they were read from (overwrites).
// Split by channel, so every thread writes its own planes.
void col2im(const float* col, float* dx, const backend::Conv2dGeometry& g) {
  const int64_t plane = out_plane(g), per_channel = g.kh * g.kw * plane;
  parallel_for(g.c_in, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(per_channel, 1)),
               [&](int64_t begin, int64_t end) {
                 for (int64_t c = begin; c < end; ++c) {
                   float* dxc = dx + c * g.h * g.w;
                   std::fill(dxc, dxc + g.h * g.w, 0.0f);
                   for (int64_t i = 0; i < g.kh; ++i) {
                     for (int64_t j = 0; j < g.kw; ++j) {
                       const float* src = col + ((c * g.kh + i) * g.kw + j) * plane;
                       for (int64_t oy = 0; oy < g.out_h; ++oy) {
                         const int64_t iy = oy * g.stride_h - g.pad_h + i * g.dilation_h;
                         if (iy < 0 || iy >= g.h) continue;
                         for (int64_t ox = 0; ox < g.out_w; ++ox) {
                           const int64_t ix = ox * g.stride_w - g.pad_w + j * g.dilation_w;
                           if (ix >= 0 && ix < g.w) dxc[iy * g.w + ix] += src[oy * g.out_w + ox];
                         }
                       }
                     }
                   }
                 }
               });
}

// The GEMM shared by all three passes: `groups` independent products, one per group.
void grouped_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                  int64_t lda, int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b,
                  float* c, int64_t ldc, int64_t stride_c, float beta, int64_t groups) {
  backend::GemmArgs args;
  args.trans_a = trans_a, args.trans_b = trans_b;
  args.m = m, args.n = n, args.k = k;
  args.beta = beta;
  args.a = a, args.lda = lda, args.stride_a = stride_a;
  args.b = b, args.ldb = ldb, args.stride_b = stride_b;
  args.c = c, args.ldc = ldc, args.stride_c = stride_c;
  args.batch = groups;
  backend::gemm_stub(Device::cpu())(args);
}

// Per group: y_g (C_out/G, OH OW) = W_g (C_out/G, K) col_g (K, OH OW), K = C_in/G kH kW.
void conv2d_forward_cpu(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& y,
                        const backend::Conv2dGeometry& g) {
  if (use_direct_conv(g))
    return conv2d_direct_forward(x.data<float>(), weight.data<float>(),
                                 bias.defined() ? bias.data<float>() : nullptr, y.data<float>(), g);
  const int64_t plane = out_plane(g), cg_out = g.c_out / g.groups, k = col_rows(g) / g.groups;
  std::vector<float> col(static_cast<size_t>(col_rows(g) * plane));
  const float* xp = x.data<float>();
  const float* wp = weight.data<float>();
  float* yp = y.data<float>();
  for (int64_t n = 0; n < g.n; ++n) {
    im2col(xp + n * g.c_in * g.h * g.w, col.data(), g);
    float* yn = yp + n * g.c_out * plane;
    grouped_gemm(false, false, cg_out, plane, k, wp, k, cg_out * k, col.data(), plane, k * plane,
                 yn, plane, cg_out * plane, 0.0f, g.groups);
    if (bias.defined()) {
      const float* bp = bias.data<float>();
      for (int64_t c = 0; c < g.c_out; ++c)
        for (int64_t p = 0; p < plane; ++p) yn[c * plane + p] += bp[c];
    }
  }
}

// Per group: col_g (K, OH OW) = W_g^T dy_g, then col2im.
void conv2d_backward_data_cpu(const Tensor& dy, const Tensor& weight, const Tensor& dx,
                              const backend::Conv2dGeometry& g) {
  if (use_direct_conv(g))
    return conv2d_direct_backward_data(dy.data<float>(), weight.data<float>(), dx.data<float>(), g);
  const int64_t plane = out_plane(g), cg_out = g.c_out / g.groups, k = col_rows(g) / g.groups;
  std::vector<float> col(static_cast<size_t>(col_rows(g) * plane));
  const float* dyp = dy.data<float>();
  const float* wp = weight.data<float>();
  float* dxp = dx.data<float>();
  for (int64_t n = 0; n < g.n; ++n) {
    grouped_gemm(true, false, k, plane, cg_out, wp, k, cg_out * k, dyp + n * g.c_out * plane, plane,
                 cg_out * plane, col.data(), plane, k * plane, 0.0f, g.groups);
    col2im(col.data(), dxp + n * g.c_in * g.h * g.w, g);
  }
}

// Per group: dW_g (C_out/G, K) += dy_g (C_out/G, OH OW) col_g^T, summed over images in order.
void conv2d_backward_filter_cpu(const Tensor& dy, const Tensor& x, const Tensor& dweight,
                                const backend::Conv2dGeometry& g) {
  if (use_direct_conv(g))
    return conv2d_direct_backward_filter(dy.data<float>(), x.data<float>(), dweight.data<float>(),
                                         g);
  const int64_t plane = out_plane(g), cg_out = g.c_out / g.groups, k = col_rows(g) / g.groups;
  std::vector<float> col(static_cast<size_t>(col_rows(g) * plane));
  const float* dyp = dy.data<float>();
  const float* xp = x.data<float>();
  float* dwp = dweight.data<float>();
  if (g.n == 0) std::fill(dwp, dwp + dweight.numel(), 0.0f);
  for (int64_t n = 0; n < g.n; ++n) {
    im2col(xp + n * g.c_in * g.h * g.w, col.data(), g);
    grouped_gemm(false, true, cg_out, k, plane, dyp + n * g.c_out * plane, plane, cg_out * plane,
                 col.data(), plane, k * plane, dwp, k, cg_out * k, n == 0 ? 0.0f : 1.0f, g.groups);
  }
}

void conv2d_backward_bias_cpu(const Tensor& dy, const Tensor& dbias,
                              const backend::Conv2dGeometry& g) {
  const int64_t plane = out_plane(g);
  const float* dyp = dy.data<float>();
  float* db = dbias.data<float>();
  parallel_for(g.c_out, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      // A vectorised float sum per plane, added in image order to a double total.
      double acc = 0.0;
      for (int64_t n = 0; n < g.n; ++n) {
        const float* p = dyp + (n * g.c_out + c) * plane;
        float plane_sum = 0.0f;
#pragma omp simd reduction(+ : plane_sum)
        for (int64_t i = 0; i < plane; ++i) plane_sum += p[i];
        acc += plane_sum;
      }
      db[c] = static_cast<float>(acc);
    }
  });
}

}  // namespace
}  // namespace nabla::cpu

namespace nabla::backend {
NABLA_REGISTER(conv2d_forward_stub, cpu, cpu::conv2d_forward_cpu)
NABLA_REGISTER(conv2d_backward_data_stub, cpu, cpu::conv2d_backward_data_cpu)
NABLA_REGISTER(conv2d_backward_filter_stub, cpu, cpu::conv2d_backward_filter_cpu)
NABLA_REGISTER(conv2d_backward_bias_stub, cpu, cpu::conv2d_backward_bias_cpu)
}  // namespace nabla::backend
