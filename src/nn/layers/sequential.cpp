// nn::Sequential: children "0", "1", ... run in order.
#include <fmt/format.h>

#include "nabla/nn/layers.h"

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
  Tensor x = input;
  for (const auto& [_, child] : named_children()) x = child->forward(x);
  return x;
}

}  // namespace nabla::nn
