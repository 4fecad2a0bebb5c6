// Reductions (sum, mean, amax, argmax), softmax/log_softmax and gather, with their derivatives.
#include <algorithm>
#include <numeric>

#include "backend/indexing.h"
#include "backend/reduce.h"
#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "ops/helpers.h"

namespace nabla {
namespace {

struct Reduction {
  std::vector<bool> reduced;  // per input dim
  Shape keep_shape;           // reduced dims set to 1
  Shape out_shape;            // reduced dims dropped unless keepdim
};

Reduction plan_reduction(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  Reduction r;
  r.reduced.assign(a.dim(), dims.empty());
  for (int64_t d : dims) {
    const int64_t w = a.shape().wrap_dim(d);
    NABLA_CHECK(!r.reduced[w], "reduction: dimension {} listed twice", d);
    r.reduced[w] = true;
  }
  std::vector<int64_t> keep, out;
  for (int64_t i = 0; i < a.dim(); ++i) {
    keep.push_back(r.reduced[i] ? 1 : a.shape().dims[i]);
    if (!r.reduced[i] || keepdim) out.push_back(keep.back());
  }
  r.keep_shape = Shape(keep);
  r.out_shape = Shape(out);
  return r;
}

// Runs a reduction kernel: reduced dims in one contiguous block are reduced in place as the
// middle axis of (outer, n, inner); otherwise they are permuted to the end first.
Tensor run_reduce(ReduceOp op, const Tensor& a, const Reduction& r) {
  Tensor x = a.contiguous();
  const int64_t nd = a.dim();
  int64_t first = nd, last = -1;
  for (int64_t i = 0; i < nd; ++i)
    if (r.reduced[i]) first = std::min(first, i), last = std::max(last, i);
  bool block = true;
  for (int64_t i = first; i <= last; ++i) block = block && r.reduced[i];
  int64_t outer = 1, n = 1, inner = 1;
  if (block) {
    for (int64_t i = 0; i < nd; ++i) {
      const int64_t s = a.shape().dims[i];
      if (i < first)
        outer *= s;
      else if (i <= last)
        n *= s;
      else
        inner *= s;
    }
  } else {
    std::vector<int64_t> order;
    for (int64_t i = 0; i < nd; ++i)
      if (!r.reduced[i]) order.push_back(i), outer *= a.shape().dims[i];
    for (int64_t i = 0; i < nd; ++i)
      if (r.reduced[i]) order.push_back(i), n *= a.shape().dims[i];
    NoGradGuard no_grad;
    x = x.permute(order).contiguous();
  }
  Tensor out = Tensor::empty(r.out_shape, {DType::Float32, a.device()});
  if (n == 0) {
    out.fill_(op == ReduceOp::Sum ? 0.0 : -INFINITY);
    return out;
  }
  backend::reduce_stub(a.device())(op, x, out, outer, n, inner);
  return out;
}

}  // namespace

Tensor sum(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  ops::check_float(a, "sum");
  const Reduction r = plan_reduction(a, dims, keepdim);
  Tensor out = run_reduce(ReduceOp::Sum, a, r);
  return autograd::record("sum", out, {a}, [keep = r.keep_shape, in = a.shape()](const Tensor& g) {
    return std::vector<Tensor>{g.reshape(keep).expand(in)};
  });
}

Tensor mean(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  ops::check_float(a, "mean");
  const Reduction r = plan_reduction(a, dims, keepdim);
  const int64_t count = r.keep_shape.numel() == 0 ? 0 : a.numel() / r.keep_shape.numel();
  return mul(sum(a, dims, keepdim), 1.0f / static_cast<float>(count));
}

Tensor amax(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  ops::check_float(a, "amax");
  NABLA_CHECK(a.numel() > 0, "amax: cannot reduce an empty tensor of shape {}", a.shape().str());
  const Reduction r = plan_reduction(a, dims, keepdim);
  Tensor out = run_reduce(ReduceOp::Max, a, r);
  return autograd::record("amax", out, {a},
                          [a, out_d = out.detach(), keep = r.keep_shape, dims](const Tensor& g) {
                            const Tensor mask = eq(a.detach(), out_d.reshape(keep));
                            const Tensor count = sum(mask, dims, true);
                            return std::vector<Tensor>{div(mul(mask, g.reshape(keep)), count)};
                          });
}

Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
  ops::check_float(a, "argmax");
  const int64_t d = a.shape().wrap_dim(dim);
  NABLA_CHECK(a.shape().dims[d] > 0, "argmax: dimension {} of shape {} is empty", d,
              a.shape().str());
  const Reduction r = plan_reduction(a, {d}, keepdim);
  const Tensor x = a.contiguous();
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= a.shape().dims[i];
  for (int64_t i = d + 1; i < a.dim(); ++i) inner *= a.shape().dims[i];
  Tensor out = Tensor::empty(r.out_shape, {DType::Int64, a.device()});
  backend::argmax_stub(a.device())(x, out, outer, a.shape().dims[d], inner);
  return out;
}

Tensor sum_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  const int64_t lead = a.dim() - shape.ndim();
  NABLA_CHECK(lead >= 0, "sum_to: cannot sum shape {} down to {}", a.shape().str(), shape.str());
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < a.dim(); ++i) {
    if (i < lead) {
      dims.push_back(i);
      continue;
    }
    const int64_t target = shape.dims[i - lead], size = a.shape().dims[i];
    NABLA_CHECK(target == size || target == 1, "sum_to: cannot sum shape {} down to {}",
                a.shape().str(), shape.str());
    if (target == 1 && size != 1) dims.push_back(i);
  }
  if (dims.empty()) return a.reshape(shape);
  return sum(a, dims, true).reshape(shape);
}

namespace {

// Softmax over `dim`: the kernels work on the last axis, so other dims are moved there.
Tensor softmax_impl(const Tensor& a, int64_t dim, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  ops::check_float(a, name);
  if (a.dim() == 0) return softmax_impl(a.reshape({1}), 0, log).reshape({});
  const int64_t d = a.shape().wrap_dim(dim);
  if (d != a.dim() - 1) return softmax_impl(a.transpose(d, -1), -1, log).transpose(d, -1);
  const Tensor x = a.contiguous();
  const int64_t cols = a.shape().dims[d];
  const int64_t rows = cols == 0 ? 0 : a.numel() / cols;
  Tensor out = ops::empty_like(x);
  if (rows > 0) backend::softmax_stub(a.device())(x, out, rows, cols, log);
  return autograd::record(name, out, {a}, [y = out.detach(), rows, cols, log](const Tensor& g) {
    const Tensor gc = g.contiguous();
    Tensor dx = ops::empty_like(gc);
    if (rows > 0) backend::softmax_backward_stub(gc.device())(y, gc, dx, rows, cols, log);
    return std::vector<Tensor>{dx};
  });
}

struct GatherLayout {
  int64_t outer = 1, n = 1, k = 1, inner = 1;
};

GatherLayout gather_layout(const Tensor& a, int64_t d, const Tensor& index) {
  NABLA_CHECK(index.dtype() == DType::Int64, "gather: index must be int64, got {}",
              dtype_name(index.dtype()));
  NABLA_CHECK(index.dim() == a.dim(), "gather: index of shape {} must have as many dims as {}",
              index.shape().str(), a.shape().str());
  GatherLayout l;
  for (int64_t i = 0; i < a.dim(); ++i) {
    if (i == d) continue;
    NABLA_CHECK(index.shape().dims[i] == a.shape().dims[i],
                "gather: index shape {} must match input shape {} outside dimension {}",
                index.shape().str(), a.shape().str(), d);
    (i < d ? l.outer : l.inner) *= a.shape().dims[i];
  }
  l.n = a.shape().dims[d];
  l.k = index.shape().dims[d];
  return l;
}

}  // namespace

Tensor softmax(const Tensor& a, int64_t dim) {
  return softmax_impl(a, dim, false);
}
Tensor log_softmax(const Tensor& a, int64_t dim) {
  return softmax_impl(a, dim, true);
}

// d gather = scatter_add of g back to the gathered positions.
Tensor gather(const Tensor& a, int64_t dim, const Tensor& index) {
  ops::check_float(a, "gather");
  ops::check_same_device(a, index, "gather");
  const int64_t d = a.shape().wrap_dim(dim);
  const GatherLayout l = gather_layout(a, d, index);
  const Tensor x = a.contiguous(), idx = index.contiguous();
  Tensor out = Tensor::empty(index.shape(), {DType::Float32, a.device()});
  backend::gather_stub(a.device())(x, idx, out, l.outer, l.n, l.k, l.inner);
  return autograd::record("gather", out, {a}, [idx, l, in = a.shape()](const Tensor& g) {
    Tensor dx = Tensor::zeros(in, {DType::Float32, g.device()});
    backend::scatter_add_stub(g.device())(g.contiguous(), idx, dx, l.outer, l.n, l.k, l.inner);
    return std::vector<Tensor>{dx};
  });
}

}  // namespace nabla
