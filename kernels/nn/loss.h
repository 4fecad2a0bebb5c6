// Elementwise loss math shared by the CPU loops (src/cpu/loss.cpp) and CUDA kernels.
#pragma once

#include <math.h>

#include "kernels/common/hd.h"
#include "kernels/elementwise.h"

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

}  // namespace nabla::kernels
