// Per-element optimizer update rules, written once for the CPU loop (kernels/cpu/optim.cpp) and the
// CUDA kernel (kernels/cuda/optim.cu). The rest of each optimizer (its slot names and initial
// values, its per-step scalars, state of its own, validation) is its file under
// src/optim/methods/ (sgd.h, adaptive_gain.h, rmsprop.h, adam.h, adagrad.h, adadelta.h,
// adamax.h, nadam.h, swats.h, rprop.h), which names the rules below that it uses; the backends
// instantiate every rule listed in backend::UpdateCall (src/backend/optim.h). Each rule is a
// struct with
//   Scalars          the per-step constants, computed once on the host (bias corrections, lr),
//   kSlots, uses(k)  which of the (up to) kMaxSlots flat state buffers it reads and writes,
//   kReduces         whether it reports the dot products of its step (SWATS),
//   update(s, p, g, st, dots)  one element: p the parameter, g its gradient, st the slot values.
// Features that change which slots are touched (momentum, centered, amsgrad) are template
// arguments, so a loop never reads a buffer its rule does not use; other flags are uniform
// branches. Arithmetic follows PyTorch 1.13's single-tensor code, op by op where it matters.
#pragma once

#include <math.h>

#include "kernels/math/hd.h"

namespace nabla::kernels::optim {

constexpr int kMaxSlots = 3;

// max and min as selects: fmaxf/fminf's nan rules keep CPU loops from vectorising. (A nan
// gradient never reaches a rule unless skip_nonfinite is off.)
NABLA_HD float max_of(float a, float b) {
  return a > b ? a : b;
}
NABLA_HD float min_of(float a, float b) {
  return a < b ? a : b;
}

// Sums over a launch of step*step and step*grad (the step is the change applied to p).
struct Dots {
  double pp = 0.0, pg = 0.0;
};

// -------------------------------------------------------------------- SGD: src/optim/methods/sgd.h
struct SGDScalars {
  float lr, momentum, one_minus_dampening, weight_decay;
  bool nesterov;
  bool first;      // the first applied step: the buffer starts at the gradient (PyTorch)
  bool classical;  // lecture form: v = momentum * v + lr * d, w -= v
};
// Slot 0: momentum_buffer.
template <bool kMomentum>
struct SGDRule {
  using Scalars = SGDScalars;
  static constexpr bool kReduces = false;
  NABLA_HD static constexpr bool uses(int k) { return kMomentum && k == 0; }
  NABLA_HD static void update(const Scalars& s, float& p, float g, float* st, Dots&) {
    const float d = g + s.weight_decay * p;
    if constexpr (kMomentum) {
      // The classical form keeps the learning rate inside the velocity, so a changed lr only
      // affects new gradients. Both forms as selects, so the loop stays branch-free.
      const float x = s.classical ? s.lr * d : d;  // what enters the buffer
      const float b = s.first ? x : s.momentum * st[0] + s.one_minus_dampening * x;
      st[0] = b;
      const float dir = s.nesterov ? x + s.momentum * b : b;
      p = p - (s.classical ? dir : s.lr * dir);
    } else {
      p = p - s.lr * d;
    }
  }
};

// ------------------------------------------------- AdaptiveGain: src/optim/methods/adaptive_gain.h
struct AdaptiveGainScalars {
  float lr, beta, weight_decay, min_gain, max_gain;
};
// Slot 0: gains (start at 1), slot 1: the previous gradient.
struct AdaptiveGainRule {
  using Scalars = AdaptiveGainScalars;
  static constexpr bool kReduces = false;
  NABLA_HD static constexpr bool uses(int k) { return k < 2; }
  NABLA_HD static void update(const Scalars& s, float& p, float g, float* st, Dots&) {
    const float d = g + s.weight_decay * p;
    const float agree = d * st[1];
    // Same sign as last time: add beta; opposite: shrink by (1 - beta); a zero: keep.
    float gain = agree > 0.0f ? st[0] + s.beta : (agree < 0.0f ? st[0] * (1.0f - s.beta) : st[0]);
    gain = min_of(max_of(gain, s.min_gain), s.max_gain);
    st[0] = gain;
    st[1] = d;
    p = p - s.lr * gain * d;
  }
};

// ------------------------------------------------------------ RMSprop: src/optim/methods/rmsprop.h
struct RMSpropScalars {
  float lr, alpha, eps, weight_decay, momentum;
  bool eps_inside_sqrt;  // lecture form: sqrt(mean_square + eps)
};
// Slot 0: square_avg, 1: grad_avg (centered), 2: momentum_buffer (momentum > 0).
template <bool kCentered, bool kMomentum>
struct RMSpropRule {
  using Scalars = RMSpropScalars;
  static constexpr bool kReduces = false;
  NABLA_HD static constexpr bool uses(int k) {
    return k == 0 || (k == 1 && kCentered) || (k == 2 && kMomentum);
  }
  NABLA_HD static void update(const Scalars& s, float& p, float g, float* st, Dots&) {
    const float d = g + s.weight_decay * p;
    st[0] = s.alpha * st[0] + (1.0f - s.alpha) * (d * d);
    float var = st[0];
    if constexpr (kCentered) {
      st[1] = s.alpha * st[1] + (1.0f - s.alpha) * d;
      var = var - st[1] * st[1];
    }
    const float avg = s.eps_inside_sqrt ? sqrtf(var + s.eps) : sqrtf(var) + s.eps;
    if constexpr (kMomentum) {
      st[2] = s.momentum * st[2] + d / avg;
      p = p - s.lr * st[2];
    } else {
      p = p - s.lr * (d / avg);
    }
  }
};

// ------------------------------ Adam, AdamW, SWATS (Adam phase): src/optim/methods/adam.h, swats.h
struct AdamScalars {
  float beta1, beta2, eps, weight_decay;  // weight_decay: L2, added to the gradient (Adam)
  float decay;                            // 1 - lr * weight_decay (AdamW), else 1
  float step_size;                        // lr / (1 - beta1^t); lr without bias correction
  float bias_correction2_sqrt;            // sqrt(1 - beta2^t); 1 without bias correction
};
// Slot 0: exp_avg, 1: exp_avg_sq, 2: max_exp_avg_sq (amsgrad).
template <bool kAmsgrad, bool kReduces_ = false>
struct AdamRule {
  using Scalars = AdamScalars;
  static constexpr bool kReduces = kReduces_;
  NABLA_HD static constexpr bool uses(int k) { return k < 2 || (k == 2 && kAmsgrad); }
  NABLA_HD static void update(const Scalars& s, float& p, float g, float* st, Dots& dots) {
    const float d = g + s.weight_decay * p;
    p = p * s.decay;
    st[0] = s.beta1 * st[0] + (1.0f - s.beta1) * d;
    st[1] = s.beta2 * st[1] + (1.0f - s.beta2) * (d * d);
    float v = st[1];
    if constexpr (kAmsgrad) {
      st[2] = max_of(st[2], v);
      v = st[2];
    }
    const float step = -s.step_size * (st[0] / (sqrtf(v) / s.bias_correction2_sqrt + s.eps));
    p = p + step;
    if constexpr (kReduces) {
      dots.pp += static_cast<double>(step) * step;
      dots.pg += static_cast<double>(step) * d;
    }
  }
};

// SWATS after the switch: SGD with momentum beta1 (Keskar & Socher 2017, Algorithm 1):
// v = beta1 v + d, w -= (1 - beta1) lr_sgd v. Slot 2: momentum_buffer.
struct SWATSSGDScalars {
  float beta1, weight_decay,
      lr;  // lr: the (1 - beta1) * lambda / (1 - beta2^k) found at the switch
};
struct SWATSSGDRule {
  using Scalars = SWATSSGDScalars;
  static constexpr bool kReduces = false;
  NABLA_HD static constexpr bool uses(int k) { return k == 2; }
  NABLA_HD static void update(const Scalars& s, float& p, float g, float* st, Dots&) {
    const float d = g + s.weight_decay * p;
    st[2] = s.beta1 * st[2] + d;
    p = p - s.lr * st[2];
  }
};

// ------------------------------------------------------------ Adagrad: src/optim/methods/adagrad.h
struct AdagradScalars {
  float clr, weight_decay, eps;  // clr = lr / (1 + (t - 1) lr_decay)
};
// Slot 0: sum.
struct AdagradRule {
  using Scalars = AdagradScalars;
  static constexpr bool kReduces = false;
  NABLA_HD static constexpr bool uses(int k) { return k == 0; }
  NABLA_HD static void update(const Scalars& s, float& p, float g, float* st, Dots&) {
    const float d = g + s.weight_decay * p;
    st[0] = st[0] + d * d;
    p = p - s.clr * (d / (sqrtf(st[0]) + s.eps));
  }
};

// ---------------------------------------------------------- Adadelta: src/optim/methods/adadelta.h
struct AdadeltaScalars {
  float lr, rho, eps, weight_decay;
};
// Slot 0: square_avg, 1: acc_delta.
struct AdadeltaRule {
  using Scalars = AdadeltaScalars;
  static constexpr bool kReduces = false;
  NABLA_HD static constexpr bool uses(int k) { return k < 2; }
  NABLA_HD static void update(const Scalars& s, float& p, float g, float* st, Dots&) {
    const float d = g + s.weight_decay * p;
    st[0] = s.rho * st[0] + (1.0f - s.rho) * (d * d);
    const float delta = sqrtf(st[1] + s.eps) / sqrtf(st[0] + s.eps) * d;
    st[1] = s.rho * st[1] + (1.0f - s.rho) * (delta * delta);
    p = p - s.lr * delta;
  }
};

// -------------------------------------------------------------- Adamax: src/optim/methods/adamax.h
struct AdamaxScalars {
  float beta1, beta2, eps, weight_decay;
  float clr;  // lr / (1 - beta1^t)
};
// Slot 0: exp_avg, 1: exp_inf.
struct AdamaxRule {
  using Scalars = AdamaxScalars;
  static constexpr bool kReduces = false;
  NABLA_HD static constexpr bool uses(int k) { return k < 2; }
  NABLA_HD static void update(const Scalars& s, float& p, float g, float* st, Dots&) {
    const float d = g + s.weight_decay * p;
    st[0] = s.beta1 * st[0] + (1.0f - s.beta1) * d;
    st[1] = max_of(s.beta2 * st[1], fabsf(d) + s.eps);
    p = p - s.clr * (st[0] / st[1]);
  }
};

// ---------------------------------------------------------------- NAdam: src/optim/methods/nadam.h
struct NAdamScalars {
  float beta1, beta2, eps, weight_decay;
  float bias_correction2;  // 1 - beta2^t
  float grad_coef;         // lr (1 - mu_t) / (1 - prod mu)
  float avg_coef;          // lr mu_{t+1} / (1 - prod mu_next)
};
// Slot 0: exp_avg, 1: exp_avg_sq.
struct NAdamRule {
  using Scalars = NAdamScalars;
  static constexpr bool kReduces = false;
  NABLA_HD static constexpr bool uses(int k) { return k < 2; }
  NABLA_HD static void update(const Scalars& s, float& p, float g, float* st, Dots&) {
    const float d = g + s.weight_decay * p;
    st[0] = s.beta1 * st[0] + (1.0f - s.beta1) * d;
    st[1] = s.beta2 * st[1] + (1.0f - s.beta2) * (d * d);
    const float denom = sqrtf(st[1] / s.bias_correction2) + s.eps;
    p = p - s.grad_coef * (d / denom);
    p = p - s.avg_coef * (st[0] / denom);
  }
};

// ---------------------------------------------------------------- Rprop: src/optim/methods/rprop.h
struct RpropScalars {
  float lr;  // the initial step size, used at the first step
  float eta_minus, eta_plus, step_size_min, step_size_max, weight_decay;
  bool first;  // the first applied step: the step sizes start at lr
};
// Slot 0: prev (the gradient kept from the last step), 1: step_size. iRprop- as PyTorch 1.13's
// single-tensor Rprop: the sign of d prev picks the factor, the step size is clipped, and where
// the sign flipped the gradient counts as zero (no move now, no sign test next time).
struct RpropRule {
  using Scalars = RpropScalars;
  static constexpr bool kReduces = false;
  NABLA_HD static constexpr bool uses(int k) { return k < 2; }
  NABLA_HD static void update(const Scalars& s, float& p, float g, float* st, Dots&) {
    const float d = g + s.weight_decay * p;
    const float agree = d * st[0];
    const float factor = agree > 0.0f ? s.eta_plus : (agree < 0.0f ? s.eta_minus : 1.0f);
    const float previous = s.first ? s.lr : st[1];
    const float step_size = min_of(max_of(previous * factor, s.step_size_min), s.step_size_max);
    st[1] = step_size;
    const float kept = agree < 0.0f ? 0.0f : d;
    st[0] = kept;
    const float sign = kept > 0.0f ? 1.0f : (kept < 0.0f ? -1.0f : 0.0f);
    p = p - sign * step_size;
  }
};

}  // namespace nabla::kernels::optim
