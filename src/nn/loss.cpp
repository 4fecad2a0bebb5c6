// Loss modules: option validation and forwarding to nn::functional.
#include "nabla/nn/loss.h"

#include <fmt/format.h>

#include "nn/repr.h"

namespace nabla::nn {

namespace {
const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::Mean:
      return "mean";
    case Reduction::Sum:
      return "sum";
    case Reduction::None:
      return "none";
  }
  NABLA_ASSERT(false, "unknown reduction {}", static_cast<int>(r));
}
}  // namespace

CrossEntropyLoss::CrossEntropyLoss(CrossEntropyLossConfig config) : config_(config) {
  NABLA_CHECK(config.label_smoothing >= 0.0 && config.label_smoothing <= 1.0,
              "CrossEntropyLoss: label_smoothing must be in [0, 1], got {}",
              config.label_smoothing);
}
Tensor CrossEntropyLoss::operator()(const Tensor& input, const Tensor& target) const {
  return functional::cross_entropy(input, target, config_.reduction, config_.label_smoothing,
                                   config_.ignore_index);
}
std::string CrossEntropyLoss::str() const {
  return fmt::format("CrossEntropyLoss(ignore_index={}, reduction='{}', label_smoothing={})",
                     config_.ignore_index, reduction_name(config_.reduction),
                     repr::py_float(config_.label_smoothing));
}

NLLLoss::NLLLoss(NLLLossConfig config) : config_(config) {}
Tensor NLLLoss::operator()(const Tensor& input, const Tensor& target) const {
  return functional::nll_loss(input, target, config_.reduction, config_.ignore_index);
}
std::string NLLLoss::str() const {
  return fmt::format("NLLLoss(ignore_index={}, reduction='{}')", config_.ignore_index,
                     reduction_name(config_.reduction));
}

MSELoss::MSELoss(MSELossConfig config) : config_(config) {}
Tensor MSELoss::operator()(const Tensor& input, const Tensor& target) const {
  return functional::mse_loss(input, target, config_.reduction);
}
std::string MSELoss::str() const {
  return fmt::format("MSELoss(reduction='{}')", reduction_name(config_.reduction));
}

BCEWithLogitsLoss::BCEWithLogitsLoss(BCEWithLogitsLossConfig config) : config_(std::move(config)) {
  NABLA_CHECK(!config_.pos_weight.defined() || config_.pos_weight.dtype() == DType::Float32,
              "BCEWithLogitsLoss: pos_weight must be float32, got {}",
              dtype_name(config_.pos_weight.dtype()));
}
Tensor BCEWithLogitsLoss::operator()(const Tensor& input, const Tensor& target) const {
  return functional::binary_cross_entropy_with_logits(input, target, config_.reduction,
                                                      config_.pos_weight);
}
std::string BCEWithLogitsLoss::str() const {
  return fmt::format("BCEWithLogitsLoss(reduction='{}')", reduction_name(config_.reduction));
}

}  // namespace nabla::nn
