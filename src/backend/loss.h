// The fused losses (the elementwise math in kernels/math/loss.h). Every tensor argument is
// contiguous float32 unless said otherwise; an "optional" tensor may be undefined, and an undefined
// output means "not needed".
#pragma once

#include <cstdint>

#include "backend/dispatch.h"
#include "nabla/tensor.h"

namespace nabla::backend {

// Losses over logits / log-probabilities (N, C, S) and int64 targets (N, S).
// Targets must be in [0, C) or equal to ignore_index; an implementation reports others as a
// nabla::Error. Ignored positions get loss 0 and gradient 0.
// loss (N, S) = (1 - ls) (lse - x_t) + ls (lse - mean_c x_c); lse (N, S) saved for backward.
NABLA_DECLARE_STUB(cross_entropy_forward_stub,
                   void(const Tensor& logits, const Tensor& target, const Tensor& loss,
                        const Tensor& lse, int64_t n, int64_t c, int64_t s, double label_smoothing,
                        int64_t ignore_index));
// dlogits = dloss (softmax - (1 - ls) onehot(t) - ls / C), dloss (N, S).
NABLA_DECLARE_STUB(cross_entropy_backward_stub,
                   void(const Tensor& logits, const Tensor& target, const Tensor& lse,
                        const Tensor& dloss, const Tensor& dlogits, int64_t n, int64_t c, int64_t s,
                        double label_smoothing, int64_t ignore_index));
// loss (N, S) = -log_probs[n, t, s]; dlog_probs (overwritten) = -dloss at the target.
NABLA_DECLARE_STUB(nll_loss_forward_stub,
                   void(const Tensor& log_probs, const Tensor& target, const Tensor& loss,
                        int64_t n, int64_t c, int64_t s, int64_t ignore_index));
NABLA_DECLARE_STUB(nll_loss_backward_stub,
                   void(const Tensor& target, const Tensor& dloss, const Tensor& dlog_probs,
                        int64_t n, int64_t c, int64_t s, int64_t ignore_index));
// The mean reduction of cross_entropy and nll_loss in one pass: count () = the number of
// positions whose target is not ignore_index, mean () = float(sum of loss (N, S) in double) /
// count (nan when count is 0, as PyTorch).
NABLA_DECLARE_STUB(class_loss_mean_stub,
                   void(const Tensor& loss, const Tensor& target, const Tensor& mean,
                        const Tensor& count, int64_t ignore_index));
// Elementwise binary cross-entropy on logits (kernels/math/loss.h); pos_weight optional, already
// expanded to x's shape. Backward: each of dx, dtarget, dpos_weight optional (per element).
NABLA_DECLARE_STUB(bce_with_logits_forward_stub,
                   void(const Tensor& x, const Tensor& target, const Tensor& pos_weight,
                        const Tensor& loss));
NABLA_DECLARE_STUB(bce_with_logits_backward_stub,
                   void(const Tensor& x, const Tensor& target, const Tensor& pos_weight,
                        const Tensor& dloss, const Tensor& dx, const Tensor& dtarget,
                        const Tensor& dpos_weight));

}  // namespace nabla::backend
