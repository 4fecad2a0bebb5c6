// A flag that kernels raise on the device (for example on an index out of range) and the host
// reads once the kernel has finished, to turn it into a nabla::Error. While a CUDA graph is
// captured nothing has run and nothing can be read back: the check is skipped, and whoever
// replays the graph checks its inputs on the host (the trainer checks class targets).
#pragma once

#include "kernels/cuda/runtime.h"
#include "nabla/tensor.h"

namespace nabla::cuda_detail {

class DeviceFlag {
 public:
  // On the device the entry point runs on (made current by the dispatch).
  DeviceFlag() : buffer_(Tensor::zeros({1}, {DType::Int64, Device::cuda(current_device())})) {}
  // Kernels store a non-zero int here.
  int* get() const { return static_cast<int*>(buffer_.raw_data()); }
  // Waits for the work queued so far (the copy is on the same stream).
  bool raised() const { return !capturing() && buffer_.to_vector<int64_t>()[0] != 0; }

 private:
  Tensor buffer_;
};

}  // namespace nabla::cuda_detail
