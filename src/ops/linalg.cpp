// matmul (2-D, vectors, batched with broadcast batch dims) on GEMM (linear is in linear.cpp).
// Transposed views are passed to GEMM as transpose flags rather than copied.
#include <algorithm>

#include "backend/gemm.h"
#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "ops/helpers.h"

namespace nabla {
namespace {

// A batch of row-major matrices as GEMM sees them: (batch, rows, cols) with possibly swapped
// strides (a transposed view) and a batch stride of 0 for a broadcast operand.
struct MatrixOperand {
  Tensor storage;  // keeps a contiguous copy alive when one was needed
  const float* data = nullptr;
  bool trans = false;
  int64_t ld = 0, batch_stride = 0;
};

MatrixOperand matrix_operand(const Tensor& t3) {
  const auto& s = t3.strides();
  const int64_t rows = t3.shape().dims[1], cols = t3.shape().dims[2];
  MatrixOperand m;
  if ((s[2] == 1 || cols == 1) && s[1] >= std::max<int64_t>(cols, 1)) {
    m.storage = t3, m.ld = s[1];
  } else if ((s[1] == 1 || rows == 1) && s[2] >= std::max<int64_t>(rows, 1)) {
    m.storage = t3, m.ld = s[2], m.trans = true;
  } else {
    m.storage = t3.contiguous(), m.ld = std::max<int64_t>(cols, 1);
  }
  m.batch_stride = t3.shape().dims[0] == 1 ? 0 : m.storage.strides()[0];
  m.data = m.storage.data<float>();
  return m;
}

// C (batch, m, n) = A (batch, m, k) B (batch, k, n); A and B are 3-D views.
Tensor batched_gemm(const Tensor& a3, const Tensor& b3) {
  const int64_t batch = a3.shape().dims[0], m = a3.shape().dims[1], k = a3.shape().dims[2],
                n = b3.shape().dims[2];
  Tensor c = Tensor::empty({batch, m, n}, {DType::Float32, a3.device()});
  if (c.numel() == 0) return c;
  if (k == 0) return c.zero_();
  const MatrixOperand a = matrix_operand(a3), b = matrix_operand(b3);
  backend::GemmArgs g;
  g.trans_a = a.trans, g.trans_b = b.trans;
  g.m = m, g.n = n, g.k = k;
  g.a = a.data, g.lda = a.ld, g.stride_a = a.batch_stride;
  g.b = b.data, g.ldb = b.ld, g.stride_b = b.batch_stride;
  g.c = c.data<float>(), g.ldc = n, g.stride_c = m * n;
  g.batch = batch;
  // Under autocast the operands (and, in the backward, the rounded gradient) hold values of the
  // precision exactly.
  g.operands = autocast_precision();
  backend::gemm_stub(a3.device())(g);
  return c;
}

// Views a (..., r, c) tensor broadcast to `batch` as (prod(batch), r, c).
Tensor as_batch3(const Tensor& t, const Shape& batch) {
  std::vector<int64_t> full = batch.dims;
  full.push_back(t.shape()[-2]);
  full.push_back(t.shape()[-1]);
  const Tensor e = ops::broadcast_view(t, Shape(full));
  const int64_t b = batch.numel();
  if (batch.ndim() == 0)
    return ops::make_view(e, {1, full[0], full[1]}, {0, e.strides()[0], e.strides()[1]},
                          e.offset());
  if (batch.ndim() == 1) return e;
  NoGradGuard no_grad;
  return e.contiguous().view({b, full[batch.ndim()], full[batch.ndim() + 1]});
}

// The core: a and b have at least 2 dims. dA = g B^T, dB = A^T g, summed over broadcast batches.
Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  const int64_t k = a.shape()[-1];
  NABLA_CHECK(b.shape()[-2] == k, "matmul: shapes {} and {} cannot be multiplied ({} vs {})",
              a.shape().str(), b.shape().str(), k, b.shape()[-2]);
  const Shape batch = broadcast_shapes(
      Shape(std::vector<int64_t>(a.shape().begin(), a.shape().end() - 2)),
      Shape(std::vector<int64_t>(b.shape().begin(), b.shape().end() - 2)), "matmul");
  Tensor c3 = batched_gemm(as_batch3(a, batch), as_batch3(b, batch));
  std::vector<int64_t> out = batch.dims;
  out.push_back(a.shape()[-2]);
  out.push_back(b.shape()[-1]);
  Tensor c = ops::make_view(c3, Shape(out), contiguous_strides(Shape(out)), 0);
  const bool ga = autograd::needs_grad(a), gb = autograd::needs_grad(b);
  return autograd::record("matmul", c, {a, b}, [a, b, ga, gb](const Tensor& g) {
    const Tensor ad = a.detach(), bd = b.detach();
    return std::vector<Tensor>{
        ga ? sum_to(matmul_nd(g, bd.transpose(-1, -2)), a.shape()) : Tensor(),
        gb ? sum_to(matmul_nd(ad.transpose(-1, -2), g), b.shape()) : Tensor()};
  });
}

// matmul of operands already checked: vectors become matrices and back.
Tensor matmul_checked(const Tensor& a, const Tensor& b) {
  if (a.dim() == 1 && b.dim() == 1) return matmul_nd(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  if (a.dim() == 1) return matmul_nd(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul_nd(a, b.unsqueeze(1)).squeeze(-1);
  return matmul_nd(a, b);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  ops::check_float(a, "matmul");
  ops::check_float(b, "matmul");
  ops::check_same_device(a, b, "matmul");
  NABLA_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: got a 0-d tensor (shapes {} and {})",
              a.shape().str(), b.shape().str());
  // Checked here, on the shapes the caller passed, before vectors become matrices.
  const int64_t k = a.shape()[-1], kb = b.dim() == 1 ? b.shape()[0] : b.shape()[-2];
  NABLA_CHECK(k == kb, "matmul: shapes {} and {} cannot be multiplied ({} vs {})", a.shape().str(),
              b.shape().str(), k, kb);
  const int64_t na = std::max<int64_t>(a.dim() - 2, 0), nb = std::max<int64_t>(b.dim() - 2, 0);
  for (int64_t i = 1; i <= std::min(na, nb); ++i) {
    const int64_t da = a.shape().dims[na - i], db = b.shape().dims[nb - i];
    NABLA_CHECK(da == db || da == 1 || db == 1,
                "matmul: batch dimensions of shapes {} and {} cannot be broadcast ({} vs {})",
                a.shape().str(), b.shape().str(), da, db);
  }
  return ops::autocast_product(a, b, Tensor(), [](const Tensor& x, const Tensor& y, const Tensor&) {
    return matmul_checked(x, y);
  });
}

}  // namespace nabla
