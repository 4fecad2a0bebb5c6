// nabla::State: the saveable state of an optimizer, a scheduler or a trainer. Tensors are keyed
// by name (optimizer slots by parameter name, e.g. "exp_avg.0.weight"); counters and
// hyperparameters are doubles (integers up to 2^53 are exact); strings hold type names.
// Checkpoints store all three parts.
#pragma once

#include <map>
#include <string>

#include "nabla/tensor.h"

namespace nabla {

struct State {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, double> scalars;
  std::map<std::string, std::string> strings;

  // Lookups that throw a nabla::Error naming the missing key and `what` owns it.
  double scalar(const std::string& key, const char* what) const;
  const std::string& string(const std::string& key, const char* what) const;
  const Tensor& tensor(const std::string& key, const char* what) const;
};

}  // namespace nabla
