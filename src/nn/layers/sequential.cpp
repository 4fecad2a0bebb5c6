// nn::Sequential: children "0", "1", ... run in order. A Linear followed by a ReLU runs as one
// op (ops::linear_activation: the bias and the ReLU in one pass over the GEMM output, and one
// pass for their backward); the values are those of the two modules run one after the other.
#include <fmt/format.h>

#include <typeinfo>

#include "nabla/nn/layers.h"
#include "ops/linear.h"

namespace nabla::nn {

Sequential::Sequential(const std::vector<std::shared_ptr<Module>>& modules) {
  for (const auto& m : modules) push_back(m);
}

void Sequential::push_back(std::shared_ptr<Module> module) {
  add_child(fmt::format("{}", size()), std::move(module));
}

Module& Sequential::operator[](size_t index) const {
  NABLA_CHECK(index < size(), "Sequential: index {} out of range ({} modules)", index, size());
  return *named_children()[index].second;
}

Tensor Sequential::forward(const Tensor& input) {
  const auto& children = named_children();
  Tensor x = input;
  for (size_t i = 0; i < children.size(); ++i) {
    Module& child = *children[i].second;
    // Exact types only: a subclass may change what forward() does.
    if (typeid(child) == typeid(Linear) && i + 1 < children.size() &&
        typeid(*children[i + 1].second) == typeid(ReLU)) {
      const auto& linear = static_cast<const Linear&>(child);
      x = ops::linear_activation(x, linear.weight(), linear.bias(), ops::Activation::Relu);
      ++i;
    } else {
      x = child.forward(x);
    }
  }
  return x;
}

}  // namespace nabla::nn
