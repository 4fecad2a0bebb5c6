// Loss modules: callables holding a loss's options and forwarding to nn::functional.
//
//   nn::CrossEntropyLoss criterion({.label_smoothing = 0.1});
//   Tensor loss = criterion(logits, labels);  // logits (N, C), labels int64 (N)
//
// Option fields are declared in the order of PyTorch's constructor arguments, with its defaults.
#pragma once

#include <cstdint>
#include <string>

#include "nabla/nn/functional.h"
#include "nabla/tensor.h"

namespace nabla::nn {

using Reduction = functional::Reduction;

struct CrossEntropyLossConfig {
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;
};

struct NLLLossConfig {
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
};

struct MSELossConfig {
  Reduction reduction = Reduction::Mean;
};

struct BCEWithLogitsLossConfig {
  Reduction reduction = Reduction::Mean;
  Tensor pos_weight;  // (C) weights of the positive class, or undefined
};

// Fused log-softmax + negative log likelihood. input (N, C) or (N, C, d1...) logits, target int64
// class indices (N) or (N, d1...).
class CrossEntropyLoss {
 public:
  explicit CrossEntropyLoss(CrossEntropyLossConfig config = {});
  Tensor operator()(const Tensor& input, const Tensor& target) const;
  const CrossEntropyLossConfig& config() const { return config_; }
  std::string str() const;

 private:
  CrossEntropyLossConfig config_;
};

// input: log-probabilities (N, C) or (N, C, d1...), target as CrossEntropyLoss.
class NLLLoss {
 public:
  explicit NLLLoss(NLLLossConfig config = {});
  Tensor operator()(const Tensor& input, const Tensor& target) const;
  const NLLLossConfig& config() const { return config_; }
  std::string str() const;

 private:
  NLLLossConfig config_;
};

// Mean (or sum) of (input - target)^2; input and target of the same shape.
class MSELoss {
 public:
  explicit MSELoss(MSELossConfig config = {});
  Tensor operator()(const Tensor& input, const Tensor& target) const;
  const MSELossConfig& config() const { return config_; }
  std::string str() const;

 private:
  MSELossConfig config_;
};

// Sigmoid + binary cross entropy in one numerically stable op; target in [0, 1], input's shape.
class BCEWithLogitsLoss {
 public:
  explicit BCEWithLogitsLoss(BCEWithLogitsLossConfig config = {});
  Tensor operator()(const Tensor& input, const Tensor& target) const;
  const BCEWithLogitsLossConfig& config() const { return config_; }
  std::string str() const;

 private:
  BCEWithLogitsLossConfig config_;
};

}  // namespace nabla::nn
