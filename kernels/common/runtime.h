// Shared CUDA runtime state of the backend: the stream every kernel and copy runs on.
#pragma once

#include <cuda_runtime.h>

namespace nabla::cuda_detail {

// Each host thread gets its own stream, so ops issued from one thread stay in order.
cudaStream_t stream();

}  // namespace nabla::cuda_detail
