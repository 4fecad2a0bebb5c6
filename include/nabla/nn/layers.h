// The layers users assemble MLPs and CNNs from, and Sequential to chain them:
//
//   nn::Sequential model{nn::Flatten(), nn::Linear(784, 100), nn::ReLU(), nn::Linear(100, 10)};
//   Tensor logits = model(x);  // x (N, 1, 28, 28) -> (N, 10)
//
// Parameter names, default initialisation and printed form follow PyTorch. Every constructor
// validates its arguments and takes an optional Generator for its initial weights (the default
// generator when null). Layers are cheap handles: copying one shares its parameters.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "nabla/generator.h"
#include "nabla/nn/functional.h"
#include "nabla/nn/module.h"

namespace nabla::nn {

// A (height, width) size that also accepts one number for both, as PyTorch's int-or-tuple
// arguments: Conv2d(1, 8, 3) or Conv2d(1, 8, {3, 5}).
struct Size2 {
  int64_t h = 0, w = 0;
  Size2(int64_t both) : h(both), w(both) {}  // NOLINT: implicit on purpose
  Size2(int64_t height, int64_t width) : h(height), w(width) {}
  functional::Pair pair() const { return {h, w}; }
  bool operator==(const Size2&) const = default;
};

// ---------------------------------------------------------------- containers

// A module by value, or a shared_ptr to one: what containers accept.
template <typename T>
struct is_module_ptr : std::false_type {};
template <typename M>
struct is_module_ptr<std::shared_ptr<M>> : std::bool_constant<std::derived_from<M, Module>> {};
template <typename T>
concept ModuleArg =
    std::derived_from<std::decay_t<T>, Module> || is_module_ptr<std::decay_t<T>>::value;

// Runs its children in order. Children are named "0", "1", ...; modules given by value are
// stored as shared copies (which share parameters with the original), shared_ptrs as given.
class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& modules);
  // Not for a single Sequential, which is copied (sharing its children) instead of nested.
  template <ModuleArg... Ms>
  requires(sizeof...(Ms) > 0 &&
           !(sizeof...(Ms) == 1 && (std::same_as<std::decay_t<Ms>, Sequential> && ...)))
      Sequential(Ms&&... modules) {  // NOLINT: implicit, for braced lists
    (push_back(std::forward<Ms>(modules)), ...);
  }

  void push_back(std::shared_ptr<Module> module);
  template <typename M>
  requires std::derived_from<std::decay_t<M>, Module>
  void push_back(M&& module) {
    push_back(std::shared_ptr<Module>(std::make_shared<std::decay_t<M>>(std::forward<M>(module))));
  }
  template <typename M>
  requires std::derived_from<M, Module>
  void push_back(std::shared_ptr<M> module) {
    push_back(std::shared_ptr<Module>(std::move(module)));
  }

  size_t size() const { return named_children().size(); }
  Module& operator[](size_t index) const;
  // The child at `index` as its concrete type: model.get<nn::Linear>(1).weight().
  template <typename M>
  M& get(size_t index) const {
    M* m = dynamic_cast<M*>(&(*this)[index]);
    NABLA_CHECK(m != nullptr, "Sequential::get: child {} is a {}", index,
                (*this)[index].type_name());
    return *m;
  }

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Sequential"; }
};

// ---------------------------------------------------------------- affine layers

// y = x W^T + b. x (*, in_features) -> (*, out_features); weight (out, in), bias (out).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator* gen = nullptr);

  // PyTorch's default: weight and bias uniform in +-1/sqrt(in_features).
  void reset_parameters(Generator* gen = nullptr);

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Linear"; }
  std::string extra_repr() const override;

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias
  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }

 private:
  int64_t in_features_, out_features_;
  Tensor weight_, bias_;
};

// x (N, C_in, H, W) -> (N, C_out, H_out, W_out); weight (C_out, C_in / groups, kH, kW).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Size2 stride = 1,
         Size2 padding = 0, Size2 dilation = 1, int64_t groups = 1, bool bias = true,
         Generator* gen = nullptr);

  // PyTorch's default: weight and bias uniform in +-1/sqrt(fan_in), fan_in = C_in/groups*kH*kW.
  void reset_parameters(Generator* gen = nullptr);

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Conv2d"; }
  std::string extra_repr() const override;

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  const functional::Conv2dOptions& options() const { return options_; }

 private:
  int64_t in_channels_, out_channels_;
  Size2 kernel_size_;
  functional::Conv2dOptions options_;
  Tensor weight_, bias_;
};

// ---------------------------------------------------------------- pooling

// stride defaults to the kernel size.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                     Size2 padding = 0);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "MaxPool2d"; }
  std::string extra_repr() const override;

 private:
  Size2 kernel_size_, stride_, padding_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                     Size2 padding = 0, bool count_include_pad = true);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "AvgPool2d"; }
  std::string extra_repr() const override;

 private:
  Size2 kernel_size_, stride_, padding_;
  bool count_include_pad_;
};

// ---------------------------------------------------------------- activations and reshaping

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "ReLU"; }
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "LeakyReLU"; }
  std::string extra_repr() const override;
  double negative_slope() const { return negative_slope_; }

 private:
  double negative_slope_;
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Sigmoid"; }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Tanh"; }
};

// The exact (erf) form.
class GELU : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "GELU"; }
  std::string extra_repr() const override;
};

// Zeroes each element with probability p in training and scales the rest by 1/(1-p); the
// identity in eval mode. The masks come from `gen` (not owned; the default generator if null).
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Dropout"; }
  std::string extra_repr() const override;
  double p() const { return p_; }

 private:
  double p_;
  Generator* gen_;
};

// Merges dims start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) by default.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Flatten"; }
  std::string extra_repr() const override;

 private:
  int64_t start_dim_, end_dim_;
};

// ---------------------------------------------------------------- normalisation

// Per-channel normalisation with optional affine weight (ones) and bias (zeros), and running
// estimates (buffers running_mean = 0, running_var = 1, num_batches_tracked = 0 as int64)
// updated in training mode when track_running_stats. Shared by BatchNorm and InstanceNorm.
class NormBase : public Module {
 public:
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }
  const Tensor& num_batches_tracked() const { return num_batches_tracked_; }
  int64_t num_features() const { return num_features_; }
  std::string extra_repr() const override;

 protected:
  NormBase(const char* type, int64_t num_features, double eps, double momentum, bool affine,
           bool track_running_stats);
  // Checks x's rank (one of `ranks`) and channel count (dim 1).
  void check_input(const Tensor& x, std::initializer_list<int64_t> ranks) const;
  // Batch norm (per_instance false) or instance norm of x; counts the batch in
  // num_batches_tracked when training with running estimates.
  Tensor normalize(const Tensor& x, bool per_instance);

  int64_t num_features_;
  double eps_, momentum_;
  bool affine_, track_running_stats_;
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

class BatchNorm1d : public NormBase {
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true);
  Tensor forward(const Tensor& input) override;  // (N, C) or (N, C, L)
  std::string type_name() const override { return "BatchNorm1d"; }
};

class BatchNorm2d : public NormBase {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true);
  Tensor forward(const Tensor& input) override;  // (N, C, H, W)
  std::string type_name() const override { return "BatchNorm2d"; }
};

class InstanceNorm2d : public NormBase {
 public:
  explicit InstanceNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                          bool affine = false, bool track_running_stats = false);
  Tensor forward(const Tensor& input) override;  // (N, C, H, W)
  std::string type_name() const override { return "InstanceNorm2d"; }
};

// Normalises over the trailing dims `normalized_shape`; weight and bias have that shape.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(std::vector<int64_t> normalized_shape, double eps = 1e-5,
                     bool elementwise_affine = true);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "LayerNorm"; }
  std::string extra_repr() const override;
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  std::vector<int64_t> normalized_shape_;
  double eps_;
  bool elementwise_affine_;
  Tensor weight_, bias_;
};

// x (N, C, ...): channels split into num_groups groups, each normalised; weight and bias (C).
class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "GroupNorm"; }
  std::string extra_repr() const override;
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  int64_t num_groups_, num_channels_;
  double eps_;
  bool affine_;
  Tensor weight_, bias_;
};

}  // namespace nabla::nn
