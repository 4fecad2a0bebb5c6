// GEMM on cuBLAS. nabla's matrices are row-major and cuBLAS's column-major, so C = A B is
// computed as C^T = B^T A^T: the operands swap places and keep their transpose flags.
// TF32 tensor cores stay off by default so results match the CPU to float32 tolerance;
// nabla::cuda::set_allow_tf32(true) turns them on. Operands that hold bfloat16 or float16 values
// (autocast, nabla/precision.h) are converted to that type, exactly, and multiplied on the tensor
// cores with float32 accumulation: the products are the CPU's, the sums' order may differ.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <mutex>
#include <type_traits>
#include <vector>

#include "kernels/cuda/launch.h"

#include "backend/gemm.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/runtime.h"

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

template <typename Narrow>
__global__ void narrow_kernel(const float* x, Narrow* y, int64_t n) {
  NABLA_GRID_STRIDE_LOOP(i, n) {
    if constexpr (std::is_same_v<Narrow, __nv_bfloat16>)
      y[i] = __float2bfloat16_rn(x[i]);
    else
      y[i] = __float2half_rn(x[i]);
  }
}

// The elements from the first to the last of a batch of (rows, cols) matrices with leading
// dimension ld, batch stride `stride`.
int64_t span(int64_t rows, int64_t cols, int64_t ld, int64_t stride, int64_t batch) {
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

// A and B converted to the narrow type (same layout) and multiplied with float32 accumulation.
template <typename Narrow>
void gemm_narrow(const backend::GemmArgs& g, cudaDataType type) {
  const int64_t span_a =
      span(g.trans_a ? g.k : g.m, g.trans_a ? g.m : g.k, g.lda, g.stride_a, g.batch);
  const int64_t span_b =
      span(g.trans_b ? g.n : g.k, g.trans_b ? g.k : g.n, g.ldb, g.stride_b, g.batch);
  int device = 0;
  NABLA_CUDA_CHECK(cudaGetDevice(&device));
  // From the caching allocator; freed work stays ordered on this thread's stream.
  // B starts 16-byte aligned, as the tensor-core kernels prefer.
  const int64_t offset_b = (span_a + 7) / 8 * 8;
  const Tensor scratch =
      Tensor::empty({(offset_b + span_b + 1) / 2}, {DType::Float32, Device::cuda(device)});
  auto* a = static_cast<Narrow*>(scratch.raw_data());
  Narrow* b = a + offset_b;
  narrow_kernel<<<linear_blocks(span_a), kBlockSize, 0, stream()>>>(g.a, a, span_a);
  narrow_kernel<<<linear_blocks(span_b), kBlockSize, 0, stream()>>>(g.b, b, span_b);
  NABLA_CUDA_CHECK(cudaGetLastError());
  const cublasHandle_t h = handle();
  NABLA_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
  NABLA_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      h, g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      static_cast<int>(g.n), static_cast<int>(g.m), static_cast<int>(g.k), &g.alpha, b, type,
      static_cast<int>(g.ldb), g.stride_b, a, type, static_cast<int>(g.lda), g.stride_a, &g.beta,
      g.c, CUDA_R_32F, static_cast<int>(g.ldc), g.stride_c, static_cast<int>(g.batch),
      CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

void gemm_cuda(const backend::GemmArgs& g) {
  if (g.operands == Precision::bf16) return gemm_narrow<__nv_bfloat16>(g, CUDA_R_16BF);
  if (g.operands == Precision::fp16) return gemm_narrow<__half>(g, CUDA_R_16F);
  const cublasOperation_t op_a = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  NABLA_CUBLAS_CHECK(cublasSgemmStridedBatched(
      handle(), op_b, op_a, static_cast<int>(g.n), static_cast<int>(g.m), static_cast<int>(g.k),
      &g.alpha, g.b, static_cast<int>(g.ldb), g.stride_b, g.a, static_cast<int>(g.lda), g.stride_a,
      &g.beta, g.c, static_cast<int>(g.ldc), g.stride_c, static_cast<int>(g.batch)));
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::backend {
NABLA_REGISTER(gemm_stub, cuda, cuda_detail::gemm_cuda)
}  // namespace nabla::backend
