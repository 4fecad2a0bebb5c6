// Backend entry points of nn::functional: convolution, pooling, normalisation, dropout and the
// fused losses. The CPU implementations live in src/cpu/{conv,pool,norm,dropout,loss}.cpp.
// Signatures follow what cuDNN offers (forward / backward data / backward filter / backward bias,
// batch norm with saved statistics and in-place running averages), so a CUDA backend can fill
// the same slots. Every tensor argument is contiguous float32 unless said otherwise; an
// "optional" tensor may be undefined, and an undefined output means "not needed".
#pragma once

#include <cstdint>

#include "nabla/tensor.h"
#include "ops/dispatch.h"

namespace nabla::nn {

// ---- convolution: x (N, C_in, H, W), weight (C_out, C_in / groups, kH, kW), y (N, C_out, OH, OW)
struct Conv2dGeometry {
  int64_t n = 0, c_in = 0, h = 0, w = 0;
  int64_t c_out = 0, kh = 0, kw = 0;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  int64_t out_h = 0, out_w = 0;
};
// y = conv(x, weight) + bias (bias optional).
NABLA_DECLARE_STUB(conv2d_forward_stub,
                   void(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& y,
                        const Conv2dGeometry& g));
// dx = conv_transpose(dy, weight) (overwritten).
NABLA_DECLARE_STUB(conv2d_backward_data_stub, void(const Tensor& dy, const Tensor& weight,
                                                   const Tensor& dx, const Conv2dGeometry& g));
// dweight = sum over images of dy (x) im2col(x) (overwritten).
NABLA_DECLARE_STUB(conv2d_backward_filter_stub,
                   void(const Tensor& dy, const Tensor& x, const Tensor& dweight,
                        const Conv2dGeometry& g));
// dbias (C_out) = sum of dy over N, OH, OW (overwritten).
NABLA_DECLARE_STUB(conv2d_backward_bias_stub,
                   void(const Tensor& dy, const Tensor& dbias, const Conv2dGeometry& g));

// ---- pooling over the planes of x (N, C, H, W) -> y (N, C, OH, OW); padding as PyTorch's ----
struct Pool2dGeometry {
  int64_t n = 0, c = 0, h = 0, w = 0;
  int64_t kh = 0, kw = 0, stride_h = 0, stride_w = 0, pad_h = 0, pad_w = 0;
  int64_t out_h = 0, out_w = 0;
};
// indices (N, C, OH, OW) int64: the argmax as ih * W + iw within its plane (as PyTorch).
NABLA_DECLARE_STUB(max_pool2d_forward_stub, void(const Tensor& x, const Tensor& y,
                                                 const Tensor& indices, const Pool2dGeometry& g));
// dx (overwritten) gets each dy at its saved argmax.
NABLA_DECLARE_STUB(max_pool2d_backward_stub, void(const Tensor& dy, const Tensor& indices,
                                                  const Tensor& dx, const Pool2dGeometry& g));
NABLA_DECLARE_STUB(avg_pool2d_forward_stub, void(const Tensor& x, const Tensor& y,
                                                 const Pool2dGeometry& g, bool count_include_pad));
NABLA_DECLARE_STUB(avg_pool2d_backward_stub, void(const Tensor& dy, const Tensor& dx,
                                                  const Pool2dGeometry& g, bool count_include_pad));

// ---- batch normalisation over x viewed as (N, C, S): statistics per channel over N and S ----
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

// ---- dropout: out = keep(i) ? in * scale : 0, keep(i) from the Philox stream (seed, offset).
// The same call applies the mask to x in the forward and to dy in the backward.
NABLA_DECLARE_STUB(dropout_stub, void(const Tensor& in, const Tensor& out, float p, float scale,
                                      uint64_t seed, uint64_t offset));

// ---- losses over logits / log-probabilities (N, C, S) and int64 targets (N, S) ----
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
// Elementwise binary cross-entropy on logits (kernels/nn/loss.h); pos_weight optional, already
// expanded to x's shape. Backward: each of dx, dtarget, dpos_weight optional (per element).
NABLA_DECLARE_STUB(bce_with_logits_forward_stub,
                   void(const Tensor& x, const Tensor& target, const Tensor& pos_weight,
                        const Tensor& loss));
NABLA_DECLARE_STUB(bce_with_logits_backward_stub,
                   void(const Tensor& x, const Tensor& target, const Tensor& pos_weight,
                        const Tensor& dloss, const Tensor& dx, const Tensor& dtarget,
                        const Tensor& dpos_weight));

}  // namespace nabla::nn
