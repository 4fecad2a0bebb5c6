// nn::Conv2d, MaxPool2d and AvgPool2d over nn::functional.
#include <fmt/format.h>

#include "nabla/nn/init.h"
#include "nabla/nn/layers.h"
#include "nn/repr.h"

namespace nabla::nn {

namespace {
void check_positive(const char* layer, const char* field, const Size2& s) {
  NABLA_CHECK(s.h > 0 && s.w > 0, "{}: {} must be positive, got {}", layer, field,
              repr::py_tuple(s));
}
void check_padding(const char* layer, const Size2& padding, const Size2& kernel) {
  NABLA_CHECK(
      padding.h >= 0 && padding.w >= 0 && 2 * padding.h <= kernel.h && 2 * padding.w <= kernel.w,
      "{}: padding {} must be non-negative and at most half the kernel size {}", layer,
      repr::py_tuple(padding), repr::py_tuple(kernel));
}
}  // namespace

// ---------------------------------------------------------------- Conv2d

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Size2 stride,
               Size2 padding, Size2 dilation, int64_t groups, bool bias, Generator* gen)
    : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {
  NABLA_CHECK(in_channels > 0, "Conv2d: in_channels must be positive, got {}", in_channels);
  NABLA_CHECK(out_channels > 0, "Conv2d: out_channels must be positive, got {}", out_channels);
  check_positive("Conv2d", "kernel_size", kernel_size);
  check_positive("Conv2d", "stride", stride);
  check_positive("Conv2d", "dilation", dilation);
  NABLA_CHECK(padding.h >= 0 && padding.w >= 0, "Conv2d: padding must be non-negative, got {}",
              repr::py_tuple(padding));
  NABLA_CHECK(groups > 0, "Conv2d: groups must be positive, got {}", groups);
  NABLA_CHECK(in_channels % groups == 0 && out_channels % groups == 0,
              "Conv2d: in_channels ({}) and out_channels ({}) must be divisible by groups ({})",
              in_channels, out_channels, groups);
  options_ = {stride.pair(), padding.pair(), dilation.pair(), groups};
  weight_ = register_parameter(
      "weight", Tensor::empty({out_channels, in_channels / groups, kernel_size.h, kernel_size.w}));
  if (bias) bias_ = register_parameter("bias", Tensor::empty({out_channels}));
  reset_parameters(gen);
}

void Conv2d::reset_parameters(Generator* gen) {
  init::default_init_(weight_, bias_, gen);
}

Tensor Conv2d::forward(const Tensor& input) {
  NABLA_CHECK(input.dim() == 4 && input.shape()[1] == in_channels_,
              "Conv2d(in_channels={}): expected input (N, {}, H, W), got shape {}", in_channels_,
              in_channels_, input.shape().str());
  return functional::conv2d(input, weight_, bias_, options_);
}

std::string Conv2d::extra_repr() const {
  // As PyTorch: stride always, the rest only when not at their defaults.
  const auto& o = options_;
  std::string s = fmt::format("{}, {}, kernel_size={}, stride={}", in_channels_, out_channels_,
                              repr::py_tuple(kernel_size_), repr::py_tuple(o.stride));
  if (o.padding != functional::Pair{0, 0}) s += ", padding=" + repr::py_tuple(o.padding);
  if (o.dilation != functional::Pair{1, 1}) s += ", dilation=" + repr::py_tuple(o.dilation);
  if (o.groups != 1) s += fmt::format(", groups={}", o.groups);
  if (!bias_.defined()) s += ", bias=False";
  return s;
}

// ---------------------------------------------------------------- pooling

MaxPool2d::MaxPool2d(Size2 kernel_size, std::optional<Size2> stride, Size2 padding)
    : kernel_size_(kernel_size), stride_(stride.value_or(kernel_size)), padding_(padding) {
  check_positive("MaxPool2d", "kernel_size", kernel_size_);
  check_positive("MaxPool2d", "stride", stride_);
  check_padding("MaxPool2d", padding_, kernel_size_);
}

Tensor MaxPool2d::forward(const Tensor& input) {
  return functional::max_pool2d(input, kernel_size_.pair(), stride_.pair(), padding_.pair());
}

std::string MaxPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}, dilation=1, ceil_mode=False",
                     repr::py_int_or_tuple(kernel_size_), repr::py_int_or_tuple(stride_),
                     repr::py_int_or_tuple(padding_));
}

AvgPool2d::AvgPool2d(Size2 kernel_size, std::optional<Size2> stride, Size2 padding,
                     bool count_include_pad)
    : kernel_size_(kernel_size),
      stride_(stride.value_or(kernel_size)),
      padding_(padding),
      count_include_pad_(count_include_pad) {
  check_positive("AvgPool2d", "kernel_size", kernel_size_);
  check_positive("AvgPool2d", "stride", stride_);
  check_padding("AvgPool2d", padding_, kernel_size_);
}

Tensor AvgPool2d::forward(const Tensor& input) {
  return functional::avg_pool2d(input, kernel_size_.pair(), stride_.pair(), padding_.pair(),
                                count_include_pad_);
}

std::string AvgPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}", repr::py_int_or_tuple(kernel_size_),
                     repr::py_int_or_tuple(stride_), repr::py_int_or_tuple(padding_));
}

}  // namespace nabla::nn
