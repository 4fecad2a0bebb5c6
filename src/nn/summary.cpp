// nn::summary: a table of layers, output shapes and parameter counts from one forward pass.
#include "nabla/nn/summary.h"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/nn/layers.h"

namespace nabla::nn {

namespace {

// 1234567 -> "1,234,567".
std::string grouped(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Puts every module in eval mode and restores each one's own mode when it goes.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(Module& model) : modules_(model.named_modules()) {
    for (const auto& [_, m] : modules_) modes_.push_back(m->is_training());
    model.eval();
  }
  ~EvalModeGuard() {
    // train() is recursive, so set parents first and let children override.
    for (size_t i = 0; i < modules_.size(); ++i) modules_[i].second->train(modes_[i]);
  }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  std::vector<std::pair<std::string, Module*>> modules_;
  std::vector<bool> modes_;
};

Device device_of(const Module& model) {
  for (const auto& [_, t] : model.named_parameters()) return t.device();
  for (const auto& [_, t] : model.named_buffers()) return t.device();
  return Device::cpu();
}

}  // namespace

std::string summary(Module& model, const Shape& input_shape) {
  struct Row {
    std::string layer, shape;
    int64_t params;
  };
  std::vector<Row> rows;
  {
    NoGradGuard no_grad;
    EvalModeGuard eval(model);
    Tensor x = Tensor::zeros(input_shape, {DType::Float32, device_of(model)});
    if (auto* seq = dynamic_cast<Sequential*>(&model)) {
      for (const auto& [name, child] : seq->named_children()) {
        x = child->forward(x);
        rows.push_back({fmt::format("{} ({})", name, child->type_name()), x.shape().str(),
                        child->num_parameters()});
      }
    } else {
      x = model.forward(x);
      rows.push_back({model.type_name(), x.shape().str(), model.num_parameters()});
    }
  }

  size_t w_layer = 12, w_shape = 12;  // at least the headers' widths
  for (const Row& r : rows) {
    w_layer = std::max(w_layer, r.layer.size());
    w_shape = std::max(w_shape, r.shape.size());
  }
  const size_t w_params = 12, width = w_layer + w_shape + w_params + 4;
  std::string out = fmt::format("Input shape: {}\n", input_shape.str());
  out += fmt::format("{:<{}}  {:<{}}  {:>{}}\n", "Layer (type)", w_layer, "Output Shape", w_shape,
                     "Param #", w_params);
  out += std::string(width, '=') + "\n";
  for (const Row& r : rows)
    out += fmt::format("{:<{}}  {:<{}}  {:>{}}\n", r.layer, w_layer, r.shape, w_shape,
                       grouped(r.params), w_params);
  out += std::string(width, '=') + "\n";
  int64_t trainable = 0;
  for (const auto& [_, p] : model.named_parameters())
    if (p.requires_grad()) trainable += p.numel();
  out += fmt::format("Total params: {}\n", grouped(model.num_parameters()));
  out += fmt::format("Trainable params: {}\n", grouped(trainable));
  return out;
}

}  // namespace nabla::nn
