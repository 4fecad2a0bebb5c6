// Batch normalisation with saved statistics and in-place running averages, as cuDNN offers it.
// Every tensor argument is contiguous float32 unless said otherwise; an "optional" tensor may
// be undefined, and an undefined output means "not needed".
#pragma once

#include <cstdint>

#include "backend/dispatch.h"
#include "nabla/tensor.h"

namespace nabla::backend {

// Batch normalisation over x viewed as (N, C, S): statistics per channel over N and S.
// training: normalises with the batch mean and biased variance, writes them to save_mean and
// save_invstd = 1 / sqrt(var + eps) (C each), and, if running_mean/running_var are defined,
// updates them in place: r = (1 - momentum) r + momentum * stat (the variance unbiased).
// eval: normalises with the running statistics (required) and writes the same saved pair.
// weight and bias (C) are optional (identity affine).
NABLA_DECLARE_STUB(batch_norm_forward_stub,
                   void(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Tensor& running_mean, const Tensor& running_var, const Tensor& y,
                        const Tensor& save_mean, const Tensor& save_invstd, int64_t n, int64_t c,
                        int64_t s, bool training, double momentum, double eps));
// Gradients from the saved statistics; dx, dweight and dbias are each optional outputs.
// training: dx = w invstd (dy - mean(dy) - xhat mean(dy xhat)); eval: dx = w invstd dy.
NABLA_DECLARE_STUB(batch_norm_backward_stub,
                   void(const Tensor& x, const Tensor& dy, const Tensor& weight,
                        const Tensor& save_mean, const Tensor& save_invstd, const Tensor& dx,
                        const Tensor& dweight, const Tensor& dbias, int64_t n, int64_t c, int64_t s,
                        bool training));

}  // namespace nabla::backend
