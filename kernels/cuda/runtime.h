// Shared CUDA runtime state of the backend: the stream every kernel and copy runs on, and the
// process-wide math switches (nabla::cuda::set_allow_tf32, nabla::cuda::set_deterministic).
#pragma once

#include <cuda_runtime.h>

namespace nabla::cuda_detail {

// The device current on the calling thread: the dispatch makes each entry point's device current
// for the call (backend/dispatch.h).
int current_device();

// Each host thread gets its own stream of each device (cudaStreamPerThread follows the current
// device), so ops issued from one thread stay in order.
cudaStream_t stream();
// Whether this thread's stream is being captured into a CUDA graph: queued work is recorded,
// not run, so nothing may be read back from the device and no random draw may be baked in.
bool capturing();
// Throws while capturing: a random draw's (seed, offset) would be baked into the graph and
// every replay would repeat the same numbers.
void check_not_capturing_random(const char* op);

// TF32 tensor cores allowed for float32 GEMM and convolution (off by default).
bool allow_tf32();
// Only deterministic library algorithms (cuDNN convolutions) may be chosen (off by default).
bool deterministic();

}  // namespace nabla::cuda_detail
