// One family of checks for every CUDA runtime, cuBLAS and cuDNN call: a failure becomes a
// nabla::Error naming the call, the library's status string and file:line.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "nabla/error.h"

namespace nabla::cuda_detail {

[[noreturn]] inline void fail(const char* what, const char* status, const char* file, int line) {
  NABLA_FAIL("CUDA error: {} failed with {} at {}:{}", what, status, file, line);
}

inline const char* cublas_status_string(cublasStatus_t s) {
  return cublasGetStatusString(s);
}

// Grid arithmetic, written once.
constexpr int kBlockSize = 256;
inline unsigned ceil_div(long long n, long long d) {
  return static_cast<unsigned>((n + d - 1) / d);
}
// Blocks for a grid-stride loop over n elements (capped: each thread loops over the rest).
inline unsigned linear_blocks(long long n) {
  const unsigned b = ceil_div(n > 0 ? n : 1, kBlockSize);
  return b < 65535u * 8u ? b : 65535u * 8u;
}

}  // namespace nabla::cuda_detail

#define NABLA_CUDA_CHECK(expr)                                                                  \
  do {                                                                                          \
    const cudaError_t nabla_status_ = (expr);                                                   \
    if (nabla_status_ != cudaSuccess)                                                           \
      ::nabla::cuda_detail::fail(#expr, cudaGetErrorString(nabla_status_), __FILE__, __LINE__); \
  } while (0)

#define NABLA_CUBLAS_CHECK(expr)                                                                   \
  do {                                                                                             \
    const cublasStatus_t nabla_status_ = (expr);                                                   \
    if (nabla_status_ != CUBLAS_STATUS_SUCCESS)                                                    \
      ::nabla::cuda_detail::fail(#expr, ::nabla::cuda_detail::cublas_status_string(nabla_status_), \
                                 __FILE__, __LINE__);                                              \
  } while (0)

#define NABLA_CUDNN_CHECK(expr)                                                                  \
  do {                                                                                           \
    const cudnnStatus_t nabla_status_ = (expr);                                                  \
    if (nabla_status_ != CUDNN_STATUS_SUCCESS)                                                   \
      ::nabla::cuda_detail::fail(#expr, cudnnGetErrorString(nabla_status_), __FILE__, __LINE__); \
  } while (0)

// Checks the last kernel launch.
#define NABLA_CUDA_CHECK_LAUNCH() NABLA_CUDA_CHECK(cudaGetLastError())
