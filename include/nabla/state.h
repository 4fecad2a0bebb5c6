// nabla::State: the saveable state of an optimizer, a scheduler or a trainer. Tensors are keyed
// by name (optimizer slots by parameter name, e.g. "exp_avg.0.weight"); counters and
// hyperparameters are doubles (integers up to 2^53 are exact); strings hold type names.
// Checkpoints store all three parts.
#pragma once

#include <cmath>
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
  // Validated lookups: a state read back from a file is checked before it is used (NaN or 1e300
  // converted to an integer is undefined behaviour, and a NaN step would surface far away).
  // A whole number in [min, 2^53] (a step, a counter):
  int64_t count(const std::string& key, const char* what, int64_t min = 0) const;
  // A finite number of at least `min` (a learning rate, a momentum, a running sum):
  double finite(const std::string& key, const char* what, double min = -HUGE_VAL) const;
  const std::string& string(const std::string& key, const char* what) const;
  // A number that may be infinite (a plateau's best metric, AdaptiveGain's max_gain), which JSON
  // cannot hold: "<key>" keeps it when finite, "<key>.inf" says -1, 0 (finite) or 1.
  void set_extended(const std::string& key, double value);
  double extended(const std::string& key, const char* what) const;
  const Tensor& tensor(const std::string& key, const char* what) const;
};

}  // namespace nabla
