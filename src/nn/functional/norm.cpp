// nn::functional normalisation ops. All four run on one pair of kernels that normalise x viewed
// as (N, C, S) per channel (batch_norm_forward/backward_stub):
//   batch_norm     (N, C, S)            per-channel affine, running statistics
//   instance_norm  (1, N C, S)          per-channel affine repeated over N (as PyTorch does)
//   group_norm     (1, N G, C/G S)      then the per-channel affine as broadcast ops
//   layer_norm     (1, rows, D)         then the elementwise affine as broadcast ops
#include <numeric>

#include "backend/norm.h"
#include "nabla/autograd.h"
#include "nabla/nn/functional.h"
#include "nabla/ops.h"
#include "ops/helpers.h"

namespace nabla::nn::functional {

namespace {

void check_channel_vector(const char* op, const char* what, const Tensor& t, const Tensor& x,
                          int64_t c) {
  if (!t.defined()) return;
  ops::check_float(t, op);
  ops::check_same_device(x, t, op);
  NABLA_CHECK(t.dim() == 1 && t.size(0) == c, "{}: expected {} of shape [{}], got {}", op, what, c,
              t.shape().str());
}

// y = (x - mean) / sqrt(var + eps) * weight + bias per channel of x viewed as (n, c, s), with
// batch statistics (training) or the running ones. weight, bias, running stats optional.
// dxhat = dy w; dx = invstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) in training,
// invstd dxhat in eval; dweight = sum(dy xhat); dbias = sum(dy).
Tensor channel_norm(const char* op, const Tensor& x, int64_t n, int64_t c, int64_t s,
                    const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                    const Tensor& running_var, bool training, double momentum, double eps) {
  const Tensor xc = x.contiguous();
  const Tensor wc = weight.defined() ? weight.contiguous() : Tensor();
  const Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  const TensorOptions opts{DType::Float32, x.device()};
  Tensor y = Tensor::empty(x.shape(), opts);
  Tensor save_mean = Tensor::empty({c}, opts), save_invstd = Tensor::empty({c}, opts);
  backend::batch_norm_forward_stub(x.device())(xc, wc, bc, running_mean, running_var, y, save_mean,
                                               save_invstd, n, c, s, training, momentum, eps);
  const bool gx = autograd::needs_grad(x), gw = autograd::needs_grad(weight),
             gb = autograd::needs_grad(bias);
  return autograd::record(op, y, {x, weight, bias}, [=](const Tensor& dy_in) {
    const Tensor dy = dy_in.contiguous();
    const TensorOptions o{DType::Float32, dy.device()};
    Tensor dx = gx ? Tensor::empty(xc.shape(), o) : Tensor();
    Tensor dw = gw ? Tensor::empty({c}, o) : Tensor();
    Tensor db = gb ? Tensor::empty({c}, o) : Tensor();
    backend::batch_norm_backward_stub(dy.device())(xc, dy, wc, save_mean, save_invstd, dx, dw, db,
                                                   n, c, s, training);
    return std::vector<Tensor>{dx, dw, db};
  });
}

void check_running(const char* op, const Tensor& t) {
  if (t.defined())
    NABLA_CHECK(t.is_contiguous() && !t.requires_grad(),
                "{}: running statistics must be contiguous buffers without requires_grad", op);
}

int64_t trailing_numel(const Tensor& x, int64_t from) {
  const auto& d = x.shape().dims;
  return std::accumulate(d.begin() + from, d.end(), int64_t{1}, std::multiplies<>());
}

// weight (C) as (C, 1, ..., 1) so that it broadcasts over x (N, C, ...).
Tensor per_channel(const Tensor& t, const Tensor& x) {
  std::vector<int64_t> dims(static_cast<size_t>(x.dim() - 1), 1);
  dims[0] = t.size(0);
  return t.reshape(Shape(dims));
}

// The per-channel tensors of batch and instance norm: each undefined or of size c.
void check_channel_args(const char* op, const Tensor& x, int64_t c, const Tensor& weight,
                        const Tensor& bias, const Tensor& running_mean, const Tensor& running_var) {
  check_channel_vector(op, "weight", weight, x, c);
  check_channel_vector(op, "bias", bias, x, c);
  check_channel_vector(op, "running_mean", running_mean, x, c);
  check_channel_vector(op, "running_var", running_var, x, c);
  check_running(op, running_mean);
  check_running(op, running_var);
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  constexpr const char* op = "batch_norm";
  ops::check_float(x, op);
  NABLA_CHECK(x.dim() >= 2, "{}: expected an input of at least 2 dims (N, C, ...), got shape {}",
              op, x.shape().str());
  const int64_t n = x.size(0), c = x.size(1), s = trailing_numel(x, 2);
  check_channel_args(op, x, c, weight, bias, running_mean, running_var);
  if (training) {
    NABLA_CHECK(n * s > 1,
                "{}: expected more than 1 value per channel when training, got input "
                "of shape {}",
                op, x.shape().str());
  } else {
    NABLA_CHECK(running_mean.defined() && running_var.defined(),
                "{}: running_mean and running_var must be defined in evaluation mode", op);
  }
  return channel_norm(op, x, n, c, s, weight, bias, running_mean, running_var, training, momentum,
                      eps);
}

Tensor instance_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                     const Tensor& weight, const Tensor& bias, bool use_input_stats,
                     double momentum, double eps) {
  constexpr const char* op = "instance_norm";
  ops::check_float(x, op);
  NABLA_CHECK(x.dim() >= 3, "{}: expected an input of at least 3 dims (N, C, ...), got shape {}",
              op, x.shape().str());
  const int64_t n = x.size(0), c = x.size(1), s = trailing_numel(x, 2);
  check_channel_args(op, x, c, weight, bias, running_mean, running_var);
  NABLA_CHECK(running_mean.defined() == running_var.defined(),
              "{}: give both running_mean and running_var, or neither", op);
  if (!use_input_stats) {
    // Every instance is normalised with the same running statistics: batch norm in eval mode.
    NABLA_CHECK(running_mean.defined(),
                "{}: running_mean and running_var are required when use_input_stats is false", op);
    return channel_norm(op, x, n, c, s, weight, bias, running_mean, running_var, false, momentum,
                        eps);
  }
  NABLA_CHECK(s > 1,
              "{}: expected more than 1 spatial element when training, got input of shape {}", op,
              x.shape().str());
  // As PyTorch: batch norm over (1, N C, S) with the affine and running statistics repeated over
  // N; afterwards each running statistic is the mean of its N updated copies.
  auto repeat = [&](const Tensor& t) {
    return t.defined() ? t.unsqueeze(0).expand({n, c}).reshape({n * c}) : Tensor();
  };
  Tensor rm, rv;
  if (running_mean.defined()) {
    NoGradGuard no_grad;
    rm = repeat(running_mean).contiguous().clone();
    rv = repeat(running_var).contiguous().clone();
  }
  Tensor y =
      channel_norm(op, x, 1, n * c, s, repeat(weight), repeat(bias), rm, rv, true, momentum, eps);
  if (running_mean.defined()) {
    NoGradGuard no_grad;
    Tensor(running_mean).copy_(rm.view({n, c}).mean({0}));
    Tensor(running_var).copy_(rv.view({n, c}).mean({0}));
  }
  return y;
}

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias,
                  double eps) {
  constexpr const char* op = "group_norm";
  ops::check_float(x, op);
  NABLA_CHECK(x.dim() >= 2, "{}: expected an input of at least 2 dims (N, C, ...), got shape {}",
              op, x.shape().str());
  const int64_t n = x.size(0), c = x.size(1);
  NABLA_CHECK(num_groups >= 1 && c % num_groups == 0,
              "{}: expected the number of channels {} (input of shape {}) to be divisible by "
              "num_groups {}",
              op, c, x.shape().str(), num_groups);
  check_channel_vector(op, "weight", weight, x, c);
  check_channel_vector(op, "bias", bias, x, c);
  const int64_t per_group = c / num_groups * trailing_numel(x, 2);
  Tensor y = channel_norm(op, x.reshape({1, n * num_groups, per_group}), 1, n * num_groups,
                          per_group, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.0, eps)
                 .reshape(x.shape());
  if (weight.defined()) y = mul(y, per_channel(weight, x));
  if (bias.defined()) y = add(y, per_channel(bias, x));
  return y;
}

Tensor layer_norm(const Tensor& x, const std::vector<int64_t>& normalized_shape,
                  const Tensor& weight, const Tensor& bias, double eps) {
  constexpr const char* op = "layer_norm";
  ops::check_float(x, op);
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  const Shape norm_shape(normalized_shape);
  bool matches = k >= 1 && x.dim() >= k;
  for (int64_t i = 0; matches && i < k; ++i)
    matches = x.size(x.dim() - k + i) == normalized_shape[static_cast<size_t>(i)];
  NABLA_CHECK(matches, "{}: input of shape {} does not end with normalized_shape {}", op,
              x.shape().str(), norm_shape.str());
  for (const Tensor* t : {&weight, &bias}) {
    if (!t->defined()) continue;
    ops::check_float(*t, op);
    ops::check_same_device(x, *t, op);
    NABLA_CHECK(t->shape() == norm_shape, "{}: expected {} of shape {}, got {}", op,
                t == &weight ? "weight" : "bias", norm_shape.str(), t->shape().str());
  }
  const int64_t d = trailing_numel(x, x.dim() - k), rows = x.numel() / std::max<int64_t>(d, 1);
  Tensor y = channel_norm(op, x.reshape({1, rows, d}), 1, rows, d, Tensor(), Tensor(), Tensor(),
                          Tensor(), true, 0.0, eps)
                 .reshape(x.shape());
  if (weight.defined()) y = mul(y, weight);
  if (bias.defined()) y = add(y, bias);
  return y;
}

}  // namespace nabla::nn::functional
