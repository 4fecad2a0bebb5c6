// The parameter arena: all parameters of a model in one contiguous buffer per device, each
// parameter a view into it, and the gradients in a second buffer of the same layout. An
// optimizer step is then one fused launch over flat buffers, zero_grad one memset, global-norm
// clipping one reduction.
//
// Layout: parameters in the order given (group by group), each starting at an offset that is a
// multiple of kAlignment floats (64 bytes), so vectorised loads stay aligned; padding is zero
// in both buffers and stays zero under every update rule (zero gradient, zero state).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nabla/nn/module.h"
#include "nabla/tensor.h"

namespace nabla::nn {

class ParameterArena {
 public:
  static constexpr int64_t kAlignment = 16;

  struct Entry {
    std::string name;
    Tensor param;    // the user's handle, now a view into the arena
    int64_t offset;  // in floats from the start of the arena
    int64_t numel;
  };

  // Copies the parameters' current values into a new arena on their (common) device and
  // re-points each parameter's storage at its slice; each parameter's .grad becomes its slice of
  // the zeroed gradient buffer. Throws on duplicates, mixed devices or non-float32 tensors.
  static std::shared_ptr<ParameterArena> build(const NamedTensors& params);

  const std::vector<Entry>& entries() const { return entries_; }
  int64_t size() const { return size_; }  // floats, padding included
  Device device() const { return params_.device(); }
  Tensor flat_params() const { return params_; }  // 1-D, size()
  Tensor flat_grads() const { return grads_; }    // 1-D, size()
  void zero_grad();
  // Throws when a parameter no longer lives in the arena: the model was moved (Module::to) after
  // the optimizer was made, so updates would no longer reach it.
  void check_intact() const;
  // The entry index of a parameter name, or -1.
  int64_t find(const std::string& name) const;

 private:
  std::vector<Entry> entries_;
  int64_t size_ = 0;
  Tensor params_, grads_;
};

}  // namespace nabla::nn
