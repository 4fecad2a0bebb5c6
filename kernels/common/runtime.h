// Shared CUDA runtime state of the backend: the stream every kernel and copy runs on, and the
// process-wide math switches (nabla::cuda::set_allow_tf32, nabla::cuda::set_deterministic).
#pragma once

#include <cuda_runtime.h>

namespace nabla::cuda_detail {

// Each host thread gets its own stream, so ops issued from one thread stay in order.
cudaStream_t stream();

// TF32 tensor cores allowed for float32 GEMM and convolution (off by default).
bool allow_tf32();
// Only deterministic library algorithms (cuDNN convolutions) may be chosen (off by default).
bool deterministic();

}  // namespace nabla::cuda_detail
