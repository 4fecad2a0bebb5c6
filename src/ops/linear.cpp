// The linear layer's op: y = act(x W^T + b) as one GEMM followed by one pass that adds the bias
// and applies the activation; the backward is one pass (the activation's mask, the masked
// gradient and the bias gradient's column sums) and the GEMMs for dW and dx.
#include "ops/linear.h"

#include "backend/gemm.h"
#include "backend/linear.h"
#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "ops/helpers.h"

namespace nabla {
namespace ops {
namespace {

// c (m, n) = op(a) op(b) + beta c over contiguous row-major operands; op(a) is (m, k), stored
// as (k, m) when trans_a, and op(b) is (k, n), stored as (n, k) when trans_b.
void gemm_rows(const Tensor& c, bool trans_a, const float* a, bool trans_b, const float* b,
               int64_t k, float beta, Precision operands) {
  const int64_t m = c.size(0), n = c.size(1);
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == 0.0f) Tensor(c).zero_();
    return;
  }
  backend::GemmArgs g;
  g.trans_a = trans_a, g.trans_b = trans_b;
  g.m = m, g.n = n, g.k = k;
  g.beta = beta;
  g.a = a, g.lda = trans_a ? m : k;
  g.b = b, g.ldb = trans_b ? k : n;
  g.c = c.data<float>(), g.ldc = n;
  g.operands = operands;
  backend::gemm_stub(c.device())(g);
}

// The existing .grad of a parameter that a backward may add into in place, as the engine's
// accumulation would: the gradient then stays in the flat arena and needs no temporary and no
// separate add. Undefined when the engine must do it (no .grad yet, or not a leaf).
Tensor grad_slot(const Tensor& p) {
  if (!p.is_leaf()) return Tensor();
  Tensor g = p.grad();
  if (!g.defined() || !g.is_contiguous() || g.shape() != p.shape() || g.device() != p.device())
    return Tensor();
  return g;
}

// The 2-D op on checked operands. Under autocast (see autocast_product) the operands, and in the
// backward the masked gradient dz (a rounded gradient times 0 or 1), hold values of the precision
// exactly, which the GEMMs are told.
Tensor linear_2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act) {
  const Precision operands = autocast_precision();
  const int64_t n = x.shape()[0], out_features = weight.shape()[0];
  const Tensor xc = x.contiguous(), wc = weight.contiguous();
  const Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = Tensor::empty({n, out_features}, {DType::Float32, x.device()});
  // y (n, out) = x (n, in) W^T, W stored (out, in).
  gemm_rows(y, false, xc.data<float>(), true, wc.data<float>(), x.shape()[1], 0.0f, operands);
  if (y.numel() > 0 && (bc.defined() || act != Activation::None))
    backend::bias_activation_stub(x.device())(
        y.data<float>(), bc.defined() ? bc.data<float>() : nullptr, n, out_features, act);

  const bool gx = autograd::needs_grad(x), gw = autograd::needs_grad(weight),
             gb = autograd::needs_grad(bias);
  std::vector<Tensor> inputs{x, weight};
  if (bc.defined()) inputs.push_back(bias);
  // The output's values without its graph (capturing y itself would be a cycle).
  const Tensor y_values = act == Activation::None ? Tensor() : y.detach();
  return autograd::record(
      "linear", y, inputs,
      [xc, wc, weight, bias, y_values, act, operands, gx, gw, gb](const Tensor& dy) {
        const Tensor g = dy.contiguous();
        const int64_t rows = g.size(0), out = g.size(1);
        const TensorOptions opts{DType::Float32, g.device()};
        const Tensor dz = act == Activation::None ? g : Tensor::empty(g.shape(), opts);
        const Tensor db_slot = gb ? grad_slot(bias) : Tensor();
        const Tensor db = gb && !db_slot.defined() ? Tensor::zeros({out}, opts) : Tensor();
        float* dbias = gb ? (db_slot.defined() ? db_slot : db).data<float>() : nullptr;
        if (g.numel() > 0 && (act != Activation::None || dbias != nullptr))
          // y is read only for an activation: without one any valid pointer will do.
          backend::bias_activation_backward_stub(g.device())(
              g.data<float>(), (act == Activation::None ? g : y_values).data<float>(),
              act == Activation::None ? nullptr : dz.data<float>(), dbias, rows, out, act);
        std::vector<Tensor> grads(bias.defined() ? 3 : 2);
        if (gx) {  // dx (rows, in) = dz (rows, out) W (out, in)
          grads[0] = Tensor::empty({rows, xc.size(1)}, opts);
          gemm_rows(grads[0], false, dz.data<float>(), false, wc.data<float>(), out, 0.0f,
                    operands);
        }
        if (gw) {  // dW (out, in) = dz^T x, dz stored (rows, out)
          const Tensor slot = grad_slot(weight);
          const Tensor dw = slot.defined() ? slot : Tensor::empty(wc.shape(), opts);
          gemm_rows(dw, true, dz.data<float>(), false, xc.data<float>(), rows,
                    slot.defined() ? 1.0f : 0.0f, operands);
          if (!slot.defined()) grads[1] = dw;
        }
        if (db.defined()) grads[2] = db;
        return grads;
      });
}

}  // namespace

// z = x W^T + b, y = act(z). dz = dy act'(z) (from y), dx = dz W, dW = dz^T x, db = sum_rows dz.
Tensor linear_activation(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         Activation act) {
  check_float(x, "linear");
  check_float(weight, "linear");
  check_same_device(x, weight, "linear");
  NABLA_CHECK(weight.dim() == 2, "linear: weight must be 2-D (out, in), got {}",
              weight.shape().str());
  NABLA_CHECK(x.dim() >= 1 && x.shape()[-1] == weight.shape()[1],
              "linear: input of shape {} does not match weight of shape {} (expected last dim {})",
              x.shape().str(), weight.shape().str(), weight.shape()[1]);
  if (bias.defined()) {
    check_float(bias, "linear");
    check_same_device(x, bias, "linear");
    NABLA_CHECK(bias.dim() == 1 && bias.shape()[0] == weight.shape()[0],
                "linear: bias of shape {} does not match weight of shape {}", bias.shape().str(),
                weight.shape().str());
  }
  if (x.dim() != 2) {
    std::vector<int64_t> out = x.shape().dims;
    out.back() = weight.shape()[0];
    return linear_activation(x.reshape({-1, weight.shape()[1]}), weight, bias, act)
        .reshape(Shape(out));
  }
  return autocast_product(x, weight, bias,
                          [act](const Tensor& xr, const Tensor& wr, const Tensor& br) {
                            return linear_2d(xr, wr, br, act);
                          });
}

}  // namespace ops

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  return ops::linear_activation(x, weight, bias, ops::Activation::None);
}

}  // namespace nabla
