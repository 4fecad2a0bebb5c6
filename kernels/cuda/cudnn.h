// cuDNN plumbing shared by the CUDA kernels that call it: the calling device's handle, bound to
// the backend's stream, and RAII owners for descriptors.
#pragma once

#include <cstdint>

#include "kernels/cuda/cuda_check.h"

namespace nabla::cuda_detail {

// The current device's cuDNN handle, bound to stream(). Created on first use and kept for the
// process (destroying it at exit could run after the driver has shut down).
cudnnHandle_t cudnn_handle();

// Owns one cuDNN descriptor. Destruction cannot throw, so its status is ignored: it only fails
// for an invalid descriptor, which the constructor rules out.
template <typename T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
class CudnnDescriptor {
 public:
  CudnnDescriptor() { NABLA_CUDNN_CHECK(Create(&desc_)); }
  ~CudnnDescriptor() { (void)Destroy(desc_); }
  CudnnDescriptor(const CudnnDescriptor&) = delete;
  CudnnDescriptor& operator=(const CudnnDescriptor&) = delete;
  T get() const { return desc_; }

 private:
  T desc_ = nullptr;
};

using TensorDescriptor = CudnnDescriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor,
                                         cudnnDestroyTensorDescriptor>;
using FilterDescriptor = CudnnDescriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor,
                                         cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    CudnnDescriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                    cudnnDestroyConvolutionDescriptor>;

// cuDNN takes sizes as int; `what` names the op and the size in the error.
int cudnn_int(int64_t v, const char* what);

// A contiguous float32 (n, c, h, w) tensor.
void set_nchw(const TensorDescriptor& d, int64_t n, int64_t c, int64_t h, int64_t w);

}  // namespace nabla::cuda_detail
