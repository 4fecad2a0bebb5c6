// CPU losses: cross-entropy fused with log-softmax (one pass for the max, one for the sum of
// exponentials, in double), NLL, their mean over the targets kept, and binary cross-entropy on
// logits. Class scores are laid out
// as (N, C, S): the classes of one position are S apart.
#include <cmath>

#include "backend/loss.h"
#include "kernels/cpu/loops.h"
#include "kernels/math/loss.h"

namespace nabla::cpu {
namespace {

// Rejects targets outside [0, C) that are not ignore_index, before any parallel loop runs.
void check_targets(const char* op, const int64_t* t, int64_t count, int64_t c,
                   int64_t ignore_index) {
  for (int64_t i = 0; i < count; ++i) {
    NABLA_CHECK(t[i] == ignore_index || (t[i] >= 0 && t[i] < c),
                "{}: target {} at position {} is out of range for {} classes (expected 0..{}, "
                "or ignore_index {})",
                op, t[i], i, c, c - 1, ignore_index);
  }
}

// Runs body(n, s, i) for each of the N S positions, i = n S + s.
template <typename F>
void for_each_position(int64_t n, int64_t c, int64_t s, F&& body) {
  parallel_for(n * s, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(c, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i) body(i / s, i % s, i);
               });
}

void cross_entropy_forward_cpu(const Tensor& logits, const Tensor& target, const Tensor& loss,
                               const Tensor& lse, int64_t n, int64_t c, int64_t s,
                               double label_smoothing, int64_t ignore_index) {
  const float* x = logits.data<float>();
  const int64_t* t = target.data<int64_t>();
  float* out = loss.data<float>();
  float* lse_out = lse.data<float>();
  check_targets("cross_entropy", t, n * s, c, ignore_index);
  for_each_position(n, c, s, [&](int64_t in, int64_t is, int64_t i) {
    const float* row = x + in * c * s + is;  // class k at row[k * s]
    float m = -INFINITY;
    for (int64_t k = 0; k < c; ++k) m = std::fmax(m, row[k * s]);
    double sum_exp = 0.0, sum_x = 0.0;
    for (int64_t k = 0; k < c; ++k) {
      sum_exp += std::exp(static_cast<double>(row[k * s]) - m);
      sum_x += row[k * s];
    }
    const double l = m + std::log(sum_exp);
    lse_out[i] = static_cast<float>(l);
    if (t[i] == ignore_index) {
      out[i] = 0.0f;
      return;
    }
    out[i] = static_cast<float>(kernels::cross_entropy_from_lse(
        l, row[t[i] * s], sum_x / static_cast<double>(c), label_smoothing));
  });
}

void cross_entropy_backward_cpu(const Tensor& logits, const Tensor& target, const Tensor& lse,
                                const Tensor& dloss, const Tensor& dlogits, int64_t n, int64_t c,
                                int64_t s, double label_smoothing, int64_t ignore_index) {
  const float* x = logits.data<float>();
  const int64_t* t = target.data<int64_t>();
  const float* l = lse.data<float>();
  const float* g = dloss.data<float>();
  float* dx = dlogits.data<float>();
  const float off = static_cast<float>(label_smoothing / static_cast<double>(c));
  const float on = static_cast<float>(1.0 - label_smoothing);
  for_each_position(n, c, s, [&](int64_t in, int64_t is, int64_t i) {
    const float* row = x + in * c * s + is;
    float* drow = dx + in * c * s + is;
    if (t[i] == ignore_index) {
      for (int64_t k = 0; k < c; ++k) drow[k * s] = 0.0f;
      return;
    }
    for (int64_t k = 0; k < c; ++k)
      drow[k * s] = kernels::cross_entropy_dlogit(row[k * s], l[i], g[i], k == t[i], on, off);
  });
}

void nll_loss_forward_cpu(const Tensor& log_probs, const Tensor& target, const Tensor& loss,
                          int64_t n, int64_t c, int64_t s, int64_t ignore_index) {
  const float* x = log_probs.data<float>();
  const int64_t* t = target.data<int64_t>();
  float* out = loss.data<float>();
  check_targets("nll_loss", t, n * s, c, ignore_index);
  for_each_position(n, 1, s, [&](int64_t in, int64_t is, int64_t i) {
    out[i] = t[i] == ignore_index ? 0.0f : -x[(in * c + t[i]) * s + is];
  });
}

void nll_loss_backward_cpu(const Tensor& target, const Tensor& dloss, const Tensor& dlog_probs,
                           int64_t n, int64_t c, int64_t s, int64_t ignore_index) {
  const int64_t* t = target.data<int64_t>();
  const float* g = dloss.data<float>();
  float* dx = dlog_probs.data<float>();
  std::fill(dx, dx + n * c * s, 0.0f);
  for_each_position(n, 1, s, [&](int64_t in, int64_t is, int64_t i) {
    if (t[i] != ignore_index) dx[(in * c + t[i]) * s + is] = -g[i];
  });
}

// One sequential pass in position order, so the mean does not depend on the thread count.
void class_loss_mean_cpu(const Tensor& loss, const Tensor& target, const Tensor& mean,
                         const Tensor& count, int64_t ignore_index) {
  const float* l = loss.data<float>();
  const int64_t* t = target.data<int64_t>();
  double sum = 0.0;
  int64_t kept = 0;
  for (int64_t i = 0; i < loss.numel(); ++i) {
    sum += l[i];
    kept += t[i] != ignore_index;
  }
  const float k = static_cast<float>(kept);
  count.data<float>()[0] = k;
  mean.data<float>()[0] = static_cast<float>(sum) / k;
}

void bce_with_logits_forward_cpu(const Tensor& x, const Tensor& target, const Tensor& pos_weight,
                                 const Tensor& loss) {
  const float* xp = x.data<float>();
  const float* tp = target.data<float>();
  const float* pw = pos_weight.defined() ? pos_weight.data<float>() : nullptr;
  float* out = loss.data<float>();
  parallel_for(x.numel(), kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      out[i] = kernels::bce_with_logits(xp[i], tp[i], pw != nullptr ? pw[i] : 1.0f);
  });
}

void bce_with_logits_backward_cpu(const Tensor& x, const Tensor& target, const Tensor& pos_weight,
                                  const Tensor& dloss, const Tensor& dx, const Tensor& dtarget,
                                  const Tensor& dpos_weight) {
  const float* xp = x.data<float>();
  const float* tp = target.data<float>();
  const float* pw = pos_weight.defined() ? pos_weight.data<float>() : nullptr;
  const float* g = dloss.data<float>();
  float* dxp = dx.defined() ? dx.data<float>() : nullptr;
  float* dtp = dtarget.defined() ? dtarget.data<float>() : nullptr;
  float* dpp = dpos_weight.defined() ? dpos_weight.data<float>() : nullptr;
  parallel_for(x.numel(), kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float w = pw != nullptr ? pw[i] : 1.0f;
      if (dxp != nullptr) dxp[i] = g[i] * kernels::bce_with_logits_dx(xp[i], tp[i], w);
      if (dtp != nullptr) dtp[i] = g[i] * kernels::bce_with_logits_dtarget(xp[i], tp[i], w);
      if (dpp != nullptr) dpp[i] = g[i] * kernels::bce_with_logits_dpos_weight(xp[i], tp[i]);
    }
  });
}

}  // namespace
}  // namespace nabla::cpu

namespace nabla::backend {
NABLA_REGISTER(cross_entropy_forward_stub, cpu, cpu::cross_entropy_forward_cpu)
NABLA_REGISTER(cross_entropy_backward_stub, cpu, cpu::cross_entropy_backward_cpu)
NABLA_REGISTER(nll_loss_forward_stub, cpu, cpu::nll_loss_forward_cpu)
NABLA_REGISTER(nll_loss_backward_stub, cpu, cpu::nll_loss_backward_cpu)
NABLA_REGISTER(class_loss_mean_stub, cpu, cpu::class_loss_mean_cpu)
NABLA_REGISTER(bce_with_logits_forward_stub, cpu, cpu::bce_with_logits_forward_cpu)
NABLA_REGISTER(bce_with_logits_backward_stub, cpu, cpu::bce_with_logits_backward_cpu)
}  // namespace nabla::backend
