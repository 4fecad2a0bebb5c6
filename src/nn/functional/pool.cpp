// nn::functional::max_pool2d and avg_pool2d: validation (PyTorch's rules), output geometry and
// autograd; the loops are in the backend (kernels/cpu/pool.cpp).
#include "backend/pool.h"
#include "nabla/autograd.h"
#include "nabla/nn/functional.h"
#include "ops/helpers.h"

namespace nabla::nn::functional {

namespace {

backend::Pool2dGeometry pool2d_geometry(const char* op, const Tensor& x, Pair kernel, Pair stride,
                                        Pair padding) {
  ops::check_float(x, op);
  NABLA_CHECK(x.dim() == 4, "{}: expected a 4-D input (N, C, H, W), got shape {}", op,
              x.shape().str());
  if (stride[0] == 0 && stride[1] == 0) stride = kernel;
  NABLA_CHECK(kernel[0] >= 1 && kernel[1] >= 1, "{}: kernel size must be positive, got ({}, {})",
              op, kernel[0], kernel[1]);
  NABLA_CHECK(stride[0] >= 1 && stride[1] >= 1, "{}: stride must be positive, got ({}, {})", op,
              stride[0], stride[1]);
  NABLA_CHECK(padding[0] >= 0 && padding[1] >= 0 && padding[0] <= kernel[0] / 2 &&
                  padding[1] <= kernel[1] / 2,
              "{}: padding ({}, {}) must be non-negative and at most half the kernel size ({}, {})",
              op, padding[0], padding[1], kernel[0], kernel[1]);
  backend::Pool2dGeometry g;
  g.n = x.size(0), g.c = x.size(1), g.h = x.size(2), g.w = x.size(3);
  g.kh = kernel[0], g.kw = kernel[1];
  g.stride_h = stride[0], g.stride_w = stride[1];
  g.pad_h = padding[0], g.pad_w = padding[1];
  NABLA_CHECK(g.h + 2 * g.pad_h >= g.kh && g.w + 2 * g.pad_w >= g.kw,
              "{}: kernel ({}, {}) is larger than the padded input ({}, {}) of shape {}", op, g.kh,
              g.kw, g.h + 2 * g.pad_h, g.w + 2 * g.pad_w, x.shape().str());
  g.out_h = (g.h + 2 * g.pad_h - g.kh) / g.stride_h + 1;
  g.out_w = (g.w + 2 * g.pad_w - g.kw) / g.stride_w + 1;
  return g;
}

Shape output_shape(const backend::Pool2dGeometry& g) {
  return {g.n, g.c, g.out_h, g.out_w};
}

}  // namespace

// y = max over the window; dx[argmax] += dy (the argmax saved in the forward).
Tensor max_pool2d(const Tensor& x, Pair kernel, Pair stride, Pair padding) {
  const backend::Pool2dGeometry g = pool2d_geometry("max_pool2d", x, kernel, stride, padding);
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(output_shape(g), {DType::Float32, x.device()});
  Tensor indices = Tensor::empty(output_shape(g), {DType::Int64, x.device()});
  if (y.numel() > 0) backend::max_pool2d_forward_stub(x.device())(xc, y, indices, g);
  return autograd::record(
      "max_pool2d", y, {x}, [indices, g, x_shape = x.shape()](const Tensor& dy) {
        Tensor dx = Tensor::zeros(x_shape, {DType::Float32, dy.device()});
        if (dy.numel() > 0)
          backend::max_pool2d_backward_stub(dy.device())(dy.contiguous(), indices, dx, g);
        return std::vector<Tensor>{dx};
      });
}

// y = sum over the window / divisor; dx gets dy / divisor at every clipped window position.
Tensor avg_pool2d(const Tensor& x, Pair kernel, Pair stride, Pair padding, bool count_include_pad) {
  const backend::Pool2dGeometry g = pool2d_geometry("avg_pool2d", x, kernel, stride, padding);
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(output_shape(g), {DType::Float32, x.device()});
  if (y.numel() > 0) backend::avg_pool2d_forward_stub(x.device())(xc, y, g, count_include_pad);
  return autograd::record(
      "avg_pool2d", y, {x}, [g, count_include_pad, x_shape = x.shape()](const Tensor& dy) {
        Tensor dx = Tensor::zeros(x_shape, {DType::Float32, dy.device()});
        if (dy.numel() > 0)
          backend::avg_pool2d_backward_stub(dy.device())(dy.contiguous(), dx, g, count_include_pad);
        return std::vector<Tensor>{dx};
      });
}

}  // namespace nabla::nn::functional
