// Gradient clipping over a flat gradient buffer: one reduction, then one scale or clamp.
#include "nabla/optim/clip.h"

#include <cmath>

#include "backend/optim.h"
#include "nabla/autograd.h"
#include "nabla/ops.h"

namespace nabla::optim {
namespace {
Tensor flat_grads_of(const Optimizer& optimizer, const char* what) {
  const auto arena = optimizer.arena();
  NABLA_CHECK(arena != nullptr, "{}: {} has no parameter arena", what, optimizer.type_name());
  return arena->flat_grads();
}
}  // namespace

double global_norm(const Tensor& flat) {
  NABLA_CHECK(flat.dtype() == DType::Float32 && flat.is_contiguous(),
              "global_norm: expected a contiguous float32 tensor, got {} {}",
              dtype_name(flat.dtype()), flat.is_contiguous() ? "contiguous" : "strided");
  return std::sqrt(backend::sum_squares_stub(flat.device())(flat.data<float>(), flat.numel()));
}

double clip_grad_norm(const Tensor& flat_grads, double max_norm) {
  NABLA_CHECK(max_norm > 0.0, "clip_grad_norm: max_norm must be > 0, got {}", max_norm);
  const double norm = global_norm(flat_grads);
  if (!std::isfinite(norm)) return norm;
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) Tensor(flat_grads).mul_(static_cast<float>(coef));
  return norm;
}

double clip_grad_value(const Tensor& flat_grads, double clip_value) {
  NABLA_CHECK(clip_value > 0.0, "clip_grad_value: clip_value must be > 0, got {}", clip_value);
  const double norm = global_norm(flat_grads);
  if (!std::isfinite(norm)) return norm;
  NoGradGuard no_grad;
  const auto v = static_cast<float>(clip_value);
  Tensor(flat_grads).copy_(flat_grads.clamp(-v, v));
  return norm;
}

double clip_grad_norm(const Optimizer& optimizer, double max_norm) {
  return clip_grad_norm(flat_grads_of(optimizer, "clip_grad_norm"), max_norm);
}
double clip_grad_value(const Optimizer& optimizer, double clip_value) {
  return clip_grad_value(flat_grads_of(optimizer, "clip_grad_value"), clip_value);
}

}  // namespace nabla::optim
