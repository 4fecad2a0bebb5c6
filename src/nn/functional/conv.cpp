// nn::functional::conv2d: validation, output geometry and autograd; the math is in the backend
// (kernels/cpu/conv.cpp).
#include "backend/conv.h"
#include "nabla/autograd.h"
#include "nabla/nn/functional.h"
#include "ops/helpers.h"

namespace nabla::nn::functional {

namespace {

backend::Conv2dGeometry conv2d_geometry(const Tensor& x, const Tensor& weight,
                                        const Conv2dOptions& o) {
  NABLA_CHECK(x.dim() == 4,
              "conv2d: expected a 4-D input (N, C_in, H, W), got shape {} for weight of shape {}",
              x.shape().str(), weight.shape().str());
  NABLA_CHECK(weight.dim() == 4,
              "conv2d: expected a 4-D weight (C_out, C_in / groups, kH, kW), got {}",
              weight.shape().str());
  NABLA_CHECK(o.groups >= 1, "conv2d: groups must be positive, got {}", o.groups);
  for (int d = 0; d < 2; ++d) {
    NABLA_CHECK(o.stride[d] >= 1, "conv2d: stride must be positive, got ({}, {})", o.stride[0],
                o.stride[1]);
    NABLA_CHECK(o.padding[d] >= 0, "conv2d: padding must be non-negative, got ({}, {})",
                o.padding[0], o.padding[1]);
    NABLA_CHECK(o.dilation[d] >= 1, "conv2d: dilation must be positive, got ({}, {})",
                o.dilation[0], o.dilation[1]);
  }
  backend::Conv2dGeometry g;
  g.n = x.size(0), g.c_in = x.size(1), g.h = x.size(2), g.w = x.size(3);
  g.c_out = weight.size(0), g.kh = weight.size(2), g.kw = weight.size(3);
  g.stride_h = o.stride[0], g.stride_w = o.stride[1];
  g.pad_h = o.padding[0], g.pad_w = o.padding[1];
  g.dilation_h = o.dilation[0], g.dilation_w = o.dilation[1];
  g.groups = o.groups;
  NABLA_CHECK(g.c_out % g.groups == 0,
              "conv2d: out channels {} (weight of shape {}) must be divisible by groups {}",
              g.c_out, weight.shape().str(), g.groups);
  NABLA_CHECK(g.c_in == weight.size(1) * g.groups,
              "conv2d: input of shape {} has {} channels, but weight of shape {} with groups={} "
              "expects {} channels",
              x.shape().str(), g.c_in, weight.shape().str(), g.groups, weight.size(1) * g.groups);
  NABLA_CHECK(g.kh >= 1 && g.kw >= 1, "conv2d: empty kernel in weight of shape {}",
              weight.shape().str());
  const int64_t ekh = g.dilation_h * (g.kh - 1) + 1, ekw = g.dilation_w * (g.kw - 1) + 1;
  NABLA_CHECK(g.h + 2 * g.pad_h >= ekh && g.w + 2 * g.pad_w >= ekw,
              "conv2d: padded input of size ({}, {}) is smaller than the (dilated) kernel ({}, {}) "
              "for input of shape {}",
              g.h + 2 * g.pad_h, g.w + 2 * g.pad_w, ekh, ekw, x.shape().str());
  g.out_h = (g.h + 2 * g.pad_h - ekh) / g.stride_h + 1;
  g.out_w = (g.w + 2 * g.pad_w - ekw) / g.stride_w + 1;
  return g;
}

}  // namespace

// y[n, o] = b[o] + sum_{c in group(o), i, j} W[o, c, i, j] x[n, c, oy s + i d - p, ox s + j d - p]
// dx = conv_transpose(dy, W) (col2im of W^T dy), dW = sum_n dy im2col(x)^T, db = sum dy.
namespace {
Tensor conv2d_float32(const Tensor& x, const Tensor& weight, const Tensor& bias,
                      const Conv2dOptions& options) {
  ops::check_float(x, "conv2d");
  ops::check_float(weight, "conv2d");
  ops::check_same_device(x, weight, "conv2d");
  const backend::Conv2dGeometry g = conv2d_geometry(x, weight, options);
  if (bias.defined()) {
    ops::check_float(bias, "conv2d");
    ops::check_same_device(x, bias, "conv2d");
    NABLA_CHECK(bias.dim() == 1 && bias.size(0) == g.c_out,
                "conv2d: expected bias of shape [{}], got {}", g.c_out, bias.shape().str());
  }
  const Tensor xc = x.contiguous(), wc = weight.contiguous();
  const Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = Tensor::empty({g.n, g.c_out, g.out_h, g.out_w}, {DType::Float32, x.device()});
  if (y.numel() > 0) backend::conv2d_forward_stub(x.device())(xc, wc, bc, y, g);

  const bool gx = autograd::needs_grad(x), gw = autograd::needs_grad(weight),
             gb = autograd::needs_grad(bias);
  // Keep only what the backward reads: the weight for dx, the input for dweight.
  const Tensor saved_x = gw ? xc : Tensor(), saved_w = gx ? wc : Tensor();
  const Shape x_shape = x.shape(), w_shape = weight.shape();
  return autograd::record("conv2d", y, {x, weight, bias}, [=](const Tensor& dy_in) {
    const Tensor dy = dy_in.contiguous();
    const TensorOptions opts{DType::Float32, dy.device()};
    Tensor dx, dw, db;
    const bool empty = dy.numel() == 0;
    if (gx) {
      dx = Tensor::zeros(x_shape, opts);
      if (!empty) backend::conv2d_backward_data_stub(dy.device())(dy, saved_w, dx, g);
    }
    if (gw) {
      dw = Tensor::zeros(w_shape, opts);
      if (!empty) backend::conv2d_backward_filter_stub(dy.device())(dy, saved_x, dw, g);
    }
    if (gb) {
      db = Tensor::zeros({g.c_out}, opts);
      if (!empty) backend::conv2d_backward_bias_stub(dy.device())(dy, db, g);
    }
    return std::vector<Tensor>{dx, dw, db};
  });
}
}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const Conv2dOptions& options) {
  return ops::autocast_product(x, weight, bias,
                               [&options](const Tensor& xr, const Tensor& wr, const Tensor& br) {
                                 return conv2d_float32(xr, wr, br, options);
                               });
}

}  // namespace nabla::nn::functional
