// cuDNN handles (one per device, process lifetime) and descriptor helpers.
#include "kernels/cuda/cudnn.h"

#include <climits>
#include <mutex>
#include <vector>

#include "kernels/cuda/runtime.h"

namespace nabla::cuda_detail {

cudnnHandle_t cudnn_handle() {
  static std::mutex mutex;
  static std::vector<cudnnHandle_t> handles;
  int device = 0;
  NABLA_CUDA_CHECK(cudaGetDevice(&device));
  std::lock_guard<std::mutex> lock(mutex);
  if (handles.size() <= static_cast<size_t>(device)) handles.resize(device + 1, nullptr);
  if (handles[device] == nullptr) NABLA_CUDNN_CHECK(cudnnCreate(&handles[device]));
  NABLA_CUDNN_CHECK(cudnnSetStream(handles[device], stream()));
  return handles[device];
}

int cudnn_int(int64_t v, const char* what) {
  NABLA_CHECK(v >= 0 && v <= INT_MAX, "{} = {} is too large for cuDNN (at most {})", what, v,
              INT_MAX);
  return static_cast<int>(v);
}

void set_nchw(const TensorDescriptor& d, int64_t n, int64_t c, int64_t h, int64_t w) {
  NABLA_CUDNN_CHECK(cudnnSetTensor4dDescriptor(
      d.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, cudnn_int(n, "batch size"),
      cudnn_int(c, "channel count"), cudnn_int(h, "height"), cudnn_int(w, "width")));
}

}  // namespace nabla::cuda_detail
