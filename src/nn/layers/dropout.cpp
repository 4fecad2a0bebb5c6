// nn::Dropout over nn::functional::dropout; the identity in eval mode.
#include "nabla/nn/layers.h"
#include "nn/repr.h"

namespace nabla::nn {

Dropout::Dropout(double p, Generator* gen) : p_(p), gen_(gen) {
  NABLA_CHECK(p >= 0.0 && p <= 1.0, "Dropout: p must be in [0, 1], got {}", p);
}

Tensor Dropout::forward(const Tensor& input) {
  return functional::dropout(input, p_, is_training(), gen_);
}

std::string Dropout::extra_repr() const {
  return "p=" + repr::py_float(p_) + ", inplace=False";
}

}  // namespace nabla::nn
