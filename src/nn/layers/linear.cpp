// nn::Linear: y = x W^T + b over the last dim, one fused GEMM (nabla::linear).
#include <fmt/format.h>

#include "nabla/nn/init.h"
#include "nabla/nn/layers.h"
#include "nabla/ops.h"
#include "nn/repr.h"

namespace nabla::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias, Generator* gen)
    : in_features_(in_features), out_features_(out_features) {
  NABLA_CHECK(in_features > 0, "Linear: in_features must be positive, got {}", in_features);
  NABLA_CHECK(out_features > 0, "Linear: out_features must be positive, got {}", out_features);
  weight_ = register_parameter("weight", Tensor::empty({out_features, in_features}));
  if (bias) bias_ = register_parameter("bias", Tensor::empty({out_features}));
  reset_parameters(gen);
}

void Linear::reset_parameters(Generator* gen) {
  init::default_init_(weight_, bias_, gen);
}

Tensor Linear::forward(const Tensor& input) {
  NABLA_CHECK(input.dim() >= 1 && input.shape()[-1] == in_features_,
              "Linear(in_features={}): input of shape {} must end with {} features", in_features_,
              input.shape().str(), in_features_);
  return linear(input, weight_, bias_);
}

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features_, out_features_,
                     repr::py_bool(bias_.defined()));
}

}  // namespace nabla::nn
