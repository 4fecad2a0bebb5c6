// Batch normalisation's per-channel arithmetic, written once for the CPU loops
// (kernels/cpu/norm.cpp) and the CUDA kernels (kernels/cuda/norm.cu). Each backend accumulates a
// channel's sums in double in its own way; what it does with them is here, so both normalise with
// the same float scale and shift.
#pragma once

#include <math.h>

#include <cstdint>

#include "kernels/math/hd.h"

namespace nabla::kernels {

// y = (x - mean) invstd w + b = x scale + shift.
struct NormForward {
  double mean, invstd;
  float scale, shift;
};

// The statistics of one channel and its affine map. training: from sum(x) and sum(x^2) over the
// channel's count elements (the biased variance), updating the running averages in place
// (r = (1 - momentum) r + momentum stat, the variance unbiased) where they are given; eval: from
// the running averages (required). weight and bias may be null (identity affine).
NABLA_HD NormForward batch_norm_channel(double sum, double sumsq, int64_t count, bool training,
                                        double momentum, double eps, float* running_mean,
                                        float* running_var, const float* weight, const float* bias,
                                        int64_t ch) {
  double mean, var;
  if (training) {
    mean = sum / static_cast<double>(count);
    var = fmax(0.0, sumsq / static_cast<double>(count) - mean * mean);
    if (running_mean != nullptr)
      running_mean[ch] = static_cast<float>((1.0 - momentum) * running_mean[ch] + momentum * mean);
    if (running_var != nullptr && count > 1) {
      const double unbiased = var * static_cast<double>(count) / static_cast<double>(count - 1);
      running_var[ch] =
          static_cast<float>((1.0 - momentum) * running_var[ch] + momentum * unbiased);
    }
  } else {
    mean = running_mean[ch], var = running_var[ch];
  }
  const double invstd = 1.0 / sqrt(var + eps);
  const double scale = invstd * (weight != nullptr ? weight[ch] : 1.0f);
  return {mean, invstd, static_cast<float>(scale),
          static_cast<float>((bias != nullptr ? bias[ch] : 0.0f) - mean * scale)};
}

// dx = k (dy - mean_dy - (x - mean) proj).
struct NormBackward {
  float k, mean_dy, proj, mean;

  NABLA_HD float dx(float dy, float x) const { return k * (dy - mean_dy - (x - mean) * proj); }
};

// From a channel's sum(dy) and sum(dy (x - mean)) over count elements. training:
// dx = w invstd (dy - sum(dy) / M - xhat sum(dy xhat) / M), where xhat sum(dy xhat) / M =
// (x - mean) invstd^2 sum(dy (x - mean)) / M; eval: dx = w invstd dy.
NABLA_HD NormBackward batch_norm_backward_channel(double sum_dy, double sum_dy_xmu, double mean,
                                                  double invstd, double w, double count,
                                                  bool training) {
  return {static_cast<float>(w * invstd), training ? static_cast<float>(sum_dy / count) : 0.0f,
          training ? static_cast<float>(sum_dy_xmu * invstd * invstd / count) : 0.0f,
          static_cast<float>(mean)};
}

}  // namespace nabla::kernels
