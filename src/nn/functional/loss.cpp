// nn::functional losses. cross_entropy and nll_loss produce a per-position loss in one fused
// kernel (kernels/cpu/loss.cpp); their mean, in one more, divides the sum by the number of targets
// that are not ignore_index, as PyTorch does.
#include "backend/loss.h"
#include "nabla/autograd.h"
#include "nabla/nn/functional.h"
#include "nabla/ops.h"
#include "ops/helpers.h"

namespace nabla::nn::functional {

namespace {

// Class scores (N, C, d...) or (C) with targets (N, d...) or (), as (n, c, s).
struct ClassLayout {
  int64_t n = 1, c = 0, s = 1;
  Shape loss_shape;  // the target's shape
};

ClassLayout class_layout(const char* op, const Tensor& scores, const Tensor& target) {
  ops::check_float(scores, op);
  ops::check_same_device(scores, target, op);
  NABLA_CHECK(target.dtype() == DType::Int64,
              "{}: expected int64 class indices as target, got {} of shape {}", op,
              dtype_name(target.dtype()), target.shape().str());
  NABLA_CHECK(scores.dim() >= 1, "{}: expected input of shape (N, C, d...) or (C), got {}", op,
              scores.shape().str());
  ClassLayout l;
  std::vector<int64_t> expected;
  if (scores.dim() == 1) {
    l.c = scores.size(0);
  } else {
    l.n = scores.size(0), l.c = scores.size(1);
    expected.push_back(l.n);
    for (int64_t d = 2; d < scores.dim(); ++d) {
      expected.push_back(scores.size(d));
      l.s *= scores.size(d);
    }
  }
  l.loss_shape = Shape(expected);
  NABLA_CHECK(target.shape() == l.loss_shape,
              "{}: input of shape {} expects a target of shape {}, got {}", op,
              scores.shape().str(), l.loss_shape.str(), target.shape().str());
  NABLA_CHECK(l.c >= 1, "{}: input of shape {} has no classes", op, scores.shape().str());
  return l;
}

// Sum, or mean over the positions whose target is not ignore_index, or the losses themselves.
Tensor reduce_class_loss(const Tensor& losses, const Tensor& target, Reduction reduction,
                         int64_t ignore_index) {
  if (reduction == Reduction::None) return losses;
  if (reduction == Reduction::Sum) return sum(losses);
  const TensorOptions opts{DType::Float32, losses.device()};
  Tensor mean = Tensor::empty({}, opts);
  const Tensor count = Tensor::empty({}, opts);
  backend::class_loss_mean_stub(losses.device())(losses, target, mean, count, ignore_index);
  // dloss_i = dmean / count (ignored positions get gradient 0 from the loss's own backward).
  return autograd::record("class_loss_mean", mean, {losses},
                          [count, shape = losses.shape()](const Tensor& dmean) {
                            return std::vector<Tensor>{div(dmean, count).expand(shape)};
                          });
}

Tensor reduce_loss(const Tensor& losses, Reduction reduction) {
  if (reduction == Reduction::None) return losses;
  return reduction == Reduction::Sum ? sum(losses) : mean(losses);
}

}  // namespace

// loss = (1 - ls) (lse(x) - x_t) + ls (lse(x) - mean_k x_k) per position;
// dx_k = dloss (softmax(x)_k - (1 - ls) [k == t] - ls / C), 0 where t == ignore_index.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction,
                     double label_smoothing, int64_t ignore_index) {
  constexpr const char* op = "cross_entropy";
  const ClassLayout l = class_layout(op, logits, target);
  NABLA_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0,
              "{}: label_smoothing must be in [0, 1], got {}", op, label_smoothing);
  const Tensor xc = logits.contiguous(), tc = target.contiguous();
  const TensorOptions opts{DType::Float32, logits.device()};
  Tensor losses = Tensor::empty(l.loss_shape, opts), lse = Tensor::empty(l.loss_shape, opts);
  if (losses.numel() > 0)
    backend::cross_entropy_forward_stub(logits.device())(xc, tc, losses, lse, l.n, l.c, l.s,
                                                         label_smoothing, ignore_index);
  losses = autograd::record(op, losses, {logits}, [=](const Tensor& dloss) {
    Tensor dx = Tensor::empty(xc.shape(), {DType::Float32, dloss.device()});
    if (dx.numel() > 0)
      backend::cross_entropy_backward_stub(dloss.device())(xc, tc, lse, dloss.contiguous(), dx, l.n,
                                                           l.c, l.s, label_smoothing, ignore_index);
    return std::vector<Tensor>{dx};
  });
  return reduce_class_loss(losses, tc, reduction, ignore_index);
}

// loss = -log_probs[t] per position; dlog_probs = -dloss at the target, 0 elsewhere.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction,
                int64_t ignore_index) {
  constexpr const char* op = "nll_loss";
  const ClassLayout l = class_layout(op, log_probs, target);
  const Tensor xc = log_probs.contiguous(), tc = target.contiguous();
  Tensor losses = Tensor::empty(l.loss_shape, {DType::Float32, log_probs.device()});
  if (losses.numel() > 0)
    backend::nll_loss_forward_stub(log_probs.device())(xc, tc, losses, l.n, l.c, l.s, ignore_index);
  losses = autograd::record(op, losses, {log_probs}, [=, shape = xc.shape()](const Tensor& dloss) {
    Tensor dx = Tensor::zeros(shape, {DType::Float32, dloss.device()});
    if (dx.numel() > 0)
      backend::nll_loss_backward_stub(dloss.device())(tc, dloss.contiguous(), dx, l.n, l.c, l.s,
                                                      ignore_index);
    return std::vector<Tensor>{dx};
  });
  return reduce_class_loss(losses, tc, reduction, ignore_index);
}

// loss = (input - target)^2, target broadcast to input as PyTorch does.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  ops::check_float(input, "mse_loss");
  ops::check_float(target, "mse_loss");
  const Tensor diff = sub(input, target);
  return reduce_loss(mul(diff, diff), reduction);
}

// loss = (1 - t) x + (1 + (pw - 1) t) log(1 + exp(-x)), computed without overflow
// (kernels/math/loss.h, which also holds the derivatives for x, t and pw).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        Reduction reduction, const Tensor& pos_weight) {
  constexpr const char* op = "binary_cross_entropy_with_logits";
  ops::check_float(input, op);
  ops::check_float(target, op);
  ops::check_same_device(input, target, op);
  NABLA_CHECK(input.shape() == target.shape(),
              "{}: target of shape {} must have the input's shape {}", op, target.shape().str(),
              input.shape().str());
  Tensor pw;
  if (pos_weight.defined()) {
    ops::check_float(pos_weight, op);
    ops::check_same_device(input, pos_weight, op);
    NoGradGuard no_grad;
    pw = ops::broadcast_view(pos_weight, input.shape()).contiguous();
  }
  const Tensor xc = input.contiguous(), tc = target.contiguous();
  Tensor losses = ops::empty_like(xc);
  if (losses.numel() > 0) backend::bce_with_logits_forward_stub(input.device())(xc, tc, pw, losses);
  const bool gx = autograd::needs_grad(input), gt = autograd::needs_grad(target),
             gp = autograd::needs_grad(pos_weight);
  losses = autograd::record(
      op, losses, {input, target, pos_weight},
      [=, pw_shape = pos_weight.defined() ? pos_weight.shape() : Shape()](const Tensor& dloss) {
        const TensorOptions o{DType::Float32, dloss.device()};
        Tensor dx = gx ? Tensor::empty(xc.shape(), o) : Tensor();
        Tensor dt = gt ? Tensor::empty(xc.shape(), o) : Tensor();
        Tensor dp = gp ? Tensor::empty(xc.shape(), o) : Tensor();
        if (xc.numel() > 0)
          backend::bce_with_logits_backward_stub(dloss.device())(xc, tc, pw, dloss.contiguous(), dx,
                                                                 dt, dp);
        return std::vector<Tensor>{dx, dt, gp ? sum_to(dp, pw_shape) : Tensor()};
      });
  return reduce_loss(losses, reduction);
}

}  // namespace nabla::nn::functional
