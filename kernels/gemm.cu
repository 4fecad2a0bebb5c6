// GEMM on cuBLAS. nabla's matrices are row-major and cuBLAS's column-major, so C = A B is
// computed as C^T = B^T A^T: the operands swap places and keep their transpose flags.
// TF32 tensor cores stay off by default so results match the CPU to float32 tolerance;
// nabla::cuda::set_allow_tf32(true) turns them on.
#include <mutex>
#include <vector>

#include "kernels/common/cuda_check.h"
#include "kernels/common/runtime.h"
#include "ops/core_stubs.h"

namespace nabla::cuda_detail {
namespace {

// One cuBLAS handle per device, created on first use and kept for the process.
cublasHandle_t handle() {
  static std::mutex mutex;
  static std::vector<cublasHandle_t> handles;
  int device = 0;
  NABLA_CUDA_CHECK(cudaGetDevice(&device));
  std::lock_guard<std::mutex> lock(mutex);
  if (handles.size() <= static_cast<size_t>(device)) handles.resize(device + 1, nullptr);
  if (handles[device] == nullptr) NABLA_CUBLAS_CHECK(cublasCreate(&handles[device]));
  NABLA_CUBLAS_CHECK(cublasSetMathMode(
      handles[device], allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
  NABLA_CUBLAS_CHECK(cublasSetStream(handles[device], stream()));
  return handles[device];
}

void gemm_cuda(const ops::GemmArgs& g) {
  const cublasOperation_t op_a = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  NABLA_CUBLAS_CHECK(cublasSgemmStridedBatched(
      handle(), op_b, op_a, static_cast<int>(g.n), static_cast<int>(g.m), static_cast<int>(g.k),
      &g.alpha, g.b, static_cast<int>(g.ldb), g.stride_b, g.a, static_cast<int>(g.lda), g.stride_a,
      &g.beta, g.c, static_cast<int>(g.ldc), g.stride_c, static_cast<int>(g.batch)));
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::ops {
NABLA_REGISTER(gemm_stub, cuda, cuda_detail::gemm_cuda)
}  // namespace nabla::ops
