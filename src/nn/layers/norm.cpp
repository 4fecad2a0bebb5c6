// Normalisation layers over nn::functional: BatchNorm1d/2d, InstanceNorm2d (sharing NormBase),
// LayerNorm and GroupNorm.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "nabla/nn/layers.h"
#include "nn/repr.h"

namespace nabla::nn {

namespace {
void check_eps(const char* layer, double eps) {
  NABLA_CHECK(std::isfinite(eps) && eps > 0.0, "{}: eps must be positive, got {}", layer, eps);
}
}  // namespace

// ---------------------------------------------------------------- NormBase

NormBase::NormBase(const char* type, int64_t num_features, double eps, double momentum, bool affine,
                   bool track_running_stats)
    : num_features_(num_features),
      eps_(eps),
      momentum_(momentum),
      affine_(affine),
      track_running_stats_(track_running_stats) {
  NABLA_CHECK(num_features > 0, "{}: num_features must be positive, got {}", type, num_features);
  check_eps(type, eps);
  NABLA_CHECK(momentum >= 0.0 && momentum <= 1.0, "{}: momentum must be in [0, 1], got {}", type,
              momentum);
  if (affine) {
    weight_ = register_parameter("weight", Tensor::ones({num_features}));
    bias_ = register_parameter("bias", Tensor::zeros({num_features}));
  }
  if (track_running_stats) {
    running_mean_ = register_buffer("running_mean", Tensor::zeros({num_features}));
    running_var_ = register_buffer("running_var", Tensor::ones({num_features}));
    num_batches_tracked_ =
        register_buffer("num_batches_tracked", Tensor::zeros({}, {.dtype = DType::Int64}));
  }
}

void NormBase::check_input(const Tensor& x, std::initializer_list<int64_t> ranks) const {
  const bool rank_ok = std::find(ranks.begin(), ranks.end(), x.dim()) != ranks.end();
  NABLA_CHECK(rank_ok && x.shape()[1] == num_features_,
              "{}({}): expected input with {} dims and {} channels in dim 1, got shape {}",
              type_name(), num_features_, fmt::join(ranks, " or "), num_features_, x.shape().str());
}

Tensor NormBase::normalize(const Tensor& x, bool per_instance) {
  // Batch (or instance) statistics in training mode and whenever there are no running estimates.
  const bool batch_stats = is_training() || !track_running_stats_;
  Tensor y = per_instance ? functional::instance_norm(x, running_mean_, running_var_, weight_,
                                                      bias_, batch_stats, momentum_, eps_)
                          : functional::batch_norm(x, running_mean_, running_var_, weight_, bias_,
                                                   batch_stats, momentum_, eps_);
  if (is_training() && track_running_stats_) {
    // One scalar read per training step; exact where a float counter would stop at 2^24.
    num_batches_tracked_.fill_(static_cast<double>(num_batches_tracked_.item<int64_t>() + 1));
  }
  return y;
}

std::string NormBase::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", num_features_,
                     repr::py_float(eps_), repr::py_float(momentum_), repr::py_bool(affine_),
                     repr::py_bool(track_running_stats_));
}

BatchNorm1d::BatchNorm1d(int64_t num_features, double eps, double momentum, bool affine,
                         bool track_running_stats)
    : NormBase("BatchNorm1d", num_features, eps, momentum, affine, track_running_stats) {}

Tensor BatchNorm1d::forward(const Tensor& input) {
  check_input(input, {2, 3});
  return normalize(input, false);
}

BatchNorm2d::BatchNorm2d(int64_t num_features, double eps, double momentum, bool affine,
                         bool track_running_stats)
    : NormBase("BatchNorm2d", num_features, eps, momentum, affine, track_running_stats) {}

Tensor BatchNorm2d::forward(const Tensor& input) {
  check_input(input, {4});
  return normalize(input, false);
}

InstanceNorm2d::InstanceNorm2d(int64_t num_features, double eps, double momentum, bool affine,
                               bool track_running_stats)
    : NormBase("InstanceNorm2d", num_features, eps, momentum, affine, track_running_stats) {}

Tensor InstanceNorm2d::forward(const Tensor& input) {
  check_input(input, {4});
  return normalize(input, true);
}

// ---------------------------------------------------------------- LayerNorm, GroupNorm

LayerNorm::LayerNorm(std::vector<int64_t> normalized_shape, double eps, bool elementwise_affine)
    : normalized_shape_(std::move(normalized_shape)),
      eps_(eps),
      elementwise_affine_(elementwise_affine) {
  NABLA_CHECK(
      !normalized_shape_.empty() && std::all_of(normalized_shape_.begin(), normalized_shape_.end(),
                                                [](int64_t d) { return d > 0; }),
      "LayerNorm: normalized_shape must be non-empty with positive sizes, got {}",
      repr::py_tuple(normalized_shape_));
  check_eps("LayerNorm", eps);
  if (elementwise_affine) {
    weight_ = register_parameter("weight", Tensor::ones(Shape(normalized_shape_)));
    bias_ = register_parameter("bias", Tensor::zeros(Shape(normalized_shape_)));
  }
}

Tensor LayerNorm::forward(const Tensor& input) {
  const auto& dims = input.shape().dims;
  const size_t k = normalized_shape_.size();
  NABLA_CHECK(dims.size() >= k && std::equal(normalized_shape_.begin(), normalized_shape_.end(),
                                             dims.end() - static_cast<std::ptrdiff_t>(k)),
              "LayerNorm: input of shape {} does not end with normalized_shape {}",
              input.shape().str(), repr::py_tuple(normalized_shape_));
  return functional::layer_norm(input, normalized_shape_, weight_, bias_, eps_);
}

std::string LayerNorm::extra_repr() const {
  return fmt::format("{}, eps={}, elementwise_affine={}", repr::py_tuple(normalized_shape_),
                     repr::py_float(eps_), repr::py_bool(elementwise_affine_));
}

GroupNorm::GroupNorm(int64_t num_groups, int64_t num_channels, double eps, bool affine)
    : num_groups_(num_groups), num_channels_(num_channels), eps_(eps), affine_(affine) {
  NABLA_CHECK(num_groups > 0, "GroupNorm: num_groups must be positive, got {}", num_groups);
  NABLA_CHECK(num_channels > 0 && num_channels % num_groups == 0,
              "GroupNorm: num_channels ({}) must be a positive multiple of num_groups ({})",
              num_channels, num_groups);
  check_eps("GroupNorm", eps);
  if (affine) {
    weight_ = register_parameter("weight", Tensor::ones({num_channels}));
    bias_ = register_parameter("bias", Tensor::zeros({num_channels}));
  }
}

Tensor GroupNorm::forward(const Tensor& input) {
  NABLA_CHECK(input.dim() >= 2 && input.shape()[1] == num_channels_,
              "GroupNorm(num_channels={}): expected input (N, {}, ...), got shape {}",
              num_channels_, num_channels_, input.shape().str());
  return functional::group_norm(input, num_groups_, weight_, bias_, eps_);
}

std::string GroupNorm::extra_repr() const {
  return fmt::format("{}, {}, eps={}, affine={}", num_groups_, num_channels_, repr::py_float(eps_),
                     repr::py_bool(affine_));
}

}  // namespace nabla::nn
