// Gradient clipping over the flat gradient buffer of a parameter arena (one reduction, one
// scale). Both functions return the total L2 norm of the gradients before clipping. When a
// gradient is inf or nan the norm is not finite: the gradients are then left as they are, so the
// caller can see it (std::isfinite) and an optimizer with skip_nonfinite skips the step.
#pragma once

#include "nabla/optim/optimizer.h"
#include "nabla/tensor.h"

namespace nabla::optim {

// Scales all gradients by max_norm / (norm + 1e-6) when that is below 1 (as PyTorch's
// clip_grad_norm_ with norm_type 2).
double clip_grad_norm(const Tensor& flat_grads, double max_norm);
double clip_grad_norm(const Optimizer& optimizer, double max_norm);

// Clamps every gradient to [-clip_value, clip_value].
double clip_grad_value(const Tensor& flat_grads, double clip_value);
double clip_grad_value(const Optimizer& optimizer, double clip_value);

// The L2 norm of a contiguous float32 tensor, accumulated in double.
double global_norm(const Tensor& flat);

}  // namespace nabla::optim
