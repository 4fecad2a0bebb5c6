// Elementwise loss math shared by the CPU loops (kernels/cpu/loss.cpp) and CUDA kernels.
#pragma once

#include <math.h>

#include "kernels/math/elementwise.h"
#include "kernels/math/hd.h"

namespace nabla::kernels {

// log(1 + exp(-x)) without overflow: max(-x, 0) + log1p(exp(-|x|)).
NABLA_HD float softplus_neg(float x) {
  return fmaxf(-x, 0.0f) + log1pf(expf(-fabsf(x)));
}

// Binary cross-entropy on a logit x with target t and positive-class weight pw (1 = none):
//   l = (1 - t) x + (1 + (pw - 1) t) log(1 + exp(-x)),
// equal to -pw t log sigmoid(x) - (1 - t) log(1 - sigmoid(x)).
NABLA_HD float bce_with_logits(float x, float t, float pw) {
  return (1.0f - t) * x + (1.0f + (pw - 1.0f) * t) * softplus_neg(x);
}
// dl/dx = (1 + (pw - 1) t) sigmoid(x) - pw t
NABLA_HD float bce_with_logits_dx(float x, float t, float pw) {
  return (1.0f + (pw - 1.0f) * t) * sigmoid_forward(x) - pw * t;
}
// dl/dt = (pw - 1) log(1 + exp(-x)) - x
NABLA_HD float bce_with_logits_dtarget(float x, float t, float pw) {
  return (pw - 1.0f) * softplus_neg(x) - x;
}
// dl/dpw = t log(1 + exp(-x))
NABLA_HD float bce_with_logits_dpos_weight(float x, float t) {
  return t * softplus_neg(x);
}

// Cross-entropy of one position from the log-sum-exp l of its logits, the target's logit x_t and
// the mean logit, with label smoothing ls: (1 - ls) (l - x_t) + ls (l - mean_x).
NABLA_HD double cross_entropy_from_lse(double l, double x_t, double mean_x, double ls) {
  return (1.0 - ls) * (l - x_t) + ls * (l - mean_x);
}
// dl/dx_k scaled by the incoming gradient g: g (softmax_k - on [k == t] - off), with
// softmax_k = exp(x_k - lse), on = 1 - ls and off = ls / C.
NABLA_HD float cross_entropy_dlogit(float x, float lse, float g, bool is_target, float on,
                                    float off) {
  return g * (expf(x - lse) - (is_target ? on : 0.0f) - off);
}

}  // namespace nabla::kernels
