// Elementwise activations and Flatten: thin modules over the core ops.
#include <fmt/format.h>

#include <cmath>

#include "nabla/nn/layers.h"
#include "nabla/ops.h"
#include "nn/repr.h"

namespace nabla::nn {

Tensor ReLU::forward(const Tensor& input) {
  return relu(input);
}
Tensor Sigmoid::forward(const Tensor& input) {
  return sigmoid(input);
}
Tensor Tanh::forward(const Tensor& input) {
  return tanh(input);
}
Tensor GELU::forward(const Tensor& input) {
  return gelu(input);
}
std::string GELU::extra_repr() const {
  return "approximate='none'";
}

LeakyReLU::LeakyReLU(double negative_slope) : negative_slope_(negative_slope) {
  NABLA_CHECK(std::isfinite(negative_slope), "LeakyReLU: negative_slope must be finite, got {}",
              negative_slope);
}
Tensor LeakyReLU::forward(const Tensor& input) {
  return leaky_relu(input, static_cast<float>(negative_slope_));
}
std::string LeakyReLU::extra_repr() const {
  return "negative_slope=" + repr::py_float(negative_slope_);
}

Flatten::Flatten(int64_t start_dim, int64_t end_dim) : start_dim_(start_dim), end_dim_(end_dim) {}
Tensor Flatten::forward(const Tensor& input) {
  return input.flatten(start_dim_, end_dim_);
}
std::string Flatten::extra_repr() const {
  return fmt::format("start_dim={}, end_dim={}", start_dim_, end_dim_);
}

}  // namespace nabla::nn
