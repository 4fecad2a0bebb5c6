// CPU batch normalisation over x viewed as (N, C, S): one task per channel, statistics in one
// pass with double accumulation, and the backward's two per-channel sums in one pass; what follows
// the sums is kernels/math/norm.h. Layer,
// group and instance normalisation reach these kernels through reshaped views (see
// src/nn/functional/norm.cpp).
#include <cmath>

#include "backend/norm.h"
#include "kernels/cpu/loops.h"
#include "kernels/math/norm.h"

namespace nabla::cpu {
namespace {

// Runs body(c) for every channel; each channel touches N S elements.
template <typename F>
void for_each_channel(int64_t n, int64_t c, int64_t s, F&& body) {
  const int64_t work = std::max<int64_t>(1, n * s);
  parallel_for(c, std::max<int64_t>(1, kParallelGrain / work), [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch) body(ch);
  });
}

void batch_norm_forward_cpu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                            const Tensor& running_mean, const Tensor& running_var, const Tensor& y,
                            const Tensor& save_mean, const Tensor& save_invstd, int64_t n,
                            int64_t c, int64_t s, bool training, double momentum, double eps) {
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  const float* wp = weight.defined() ? weight.data<float>() : nullptr;
  const float* bp = bias.defined() ? bias.data<float>() : nullptr;
  float* rm = running_mean.defined() ? running_mean.data<float>() : nullptr;
  float* rv = running_var.defined() ? running_var.data<float>() : nullptr;
  float* sm = save_mean.data<float>();
  float* si = save_invstd.data<float>();
  const int64_t count = n * s;
  for_each_channel(n, c, s, [&](int64_t ch) {
    double sum = 0.0, sumsq = 0.0;
    if (training) {
      for (int64_t i = 0; i < n; ++i) {
        const float* p = xp + (i * c + ch) * s;
        for (int64_t j = 0; j < s; ++j) {
          const double v = p[j];
          sum += v, sumsq += v * v;
        }
      }
    }
    const kernels::NormForward f =
        kernels::batch_norm_channel(sum, sumsq, count, training, momentum, eps, rm, rv, wp, bp, ch);
    sm[ch] = static_cast<float>(f.mean);
    si[ch] = static_cast<float>(f.invstd);
    const float scale_f = f.scale, shift_f = f.shift;
    for (int64_t i = 0; i < n; ++i) {
      const float* p = xp + (i * c + ch) * s;
      float* q = yp + (i * c + ch) * s;
      for (int64_t j = 0; j < s; ++j) q[j] = p[j] * scale_f + shift_f;
    }
  });
}

void batch_norm_backward_cpu(const Tensor& x, const Tensor& dy, const Tensor& weight,
                             const Tensor& save_mean, const Tensor& save_invstd, const Tensor& dx,
                             const Tensor& dweight, const Tensor& dbias, int64_t n, int64_t c,
                             int64_t s, bool training) {
  const float* xp = x.data<float>();
  const float* dyp = dy.data<float>();
  const float* wp = weight.defined() ? weight.data<float>() : nullptr;
  const float* sm = save_mean.data<float>();
  const float* si = save_invstd.data<float>();
  float* dxp = dx.defined() ? dx.data<float>() : nullptr;
  float* dwp = dweight.defined() ? dweight.data<float>() : nullptr;
  float* dbp = dbias.defined() ? dbias.data<float>() : nullptr;
  const double count = static_cast<double>(n * s);
  for_each_channel(n, c, s, [&](int64_t ch) {
    const double mean = sm[ch], invstd = si[ch];
    // sum(dy) and sum(dy xhat) with xhat = (x - mean) invstd.
    double sum_dy = 0.0, sum_dy_xmu = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const float* p = xp + (i * c + ch) * s;
      const float* g = dyp + (i * c + ch) * s;
      for (int64_t j = 0; j < s; ++j) {
        sum_dy += g[j];
        sum_dy_xmu += g[j] * (p[j] - mean);
      }
    }
    const double sum_dy_xhat = sum_dy_xmu * invstd;
    if (dwp != nullptr) dwp[ch] = static_cast<float>(sum_dy_xhat);
    if (dbp != nullptr) dbp[ch] = static_cast<float>(sum_dy);
    if (dxp == nullptr) return;
    const kernels::NormBackward b = kernels::batch_norm_backward_channel(
        sum_dy, sum_dy_xmu, mean, invstd, wp != nullptr ? wp[ch] : 1.0, count, training);
    for (int64_t i = 0; i < n; ++i) {
      const float* p = xp + (i * c + ch) * s;
      const float* g = dyp + (i * c + ch) * s;
      float* q = dxp + (i * c + ch) * s;
      for (int64_t j = 0; j < s; ++j) q[j] = b.dx(g[j], p[j]);
    }
  });
}

}  // namespace
}  // namespace nabla::cpu

namespace nabla::backend {
NABLA_REGISTER(batch_norm_forward_stub, cpu, cpu::batch_norm_forward_cpu)
NABLA_REGISTER(batch_norm_backward_stub, cpu, cpu::batch_norm_backward_cpu)
}  // namespace nabla::backend
