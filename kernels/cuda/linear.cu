// CUDA epilogue of the linear layer over the shared math of kernels/math/linear.h: bias +
// activation over the GEMM output (cuBLAS), and the masked gradient with the bias gradient's column
// sums.
#include "backend/linear.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/math/linear.h"

namespace nabla::cuda_detail {
namespace {

using kernels::Activation;

// ---------------------------------------------------------------- kernels

// y (n, out) = act(y + bias), element i in column i % out.
__global__ void bias_activation_kernel(float* y, const float* bias, int64_t numel, int64_t out,
                                       Activation act) {
  NABLA_GRID_STRIDE_LOOP(i, numel) {
    const float z = bias != nullptr ? y[i] + bias[i % out] : y[i];
    y[i] = kernels::activation_forward(act, z);
  }
}

// One thread per column, rows in order (the CPU's summation order); neighbouring threads read
// neighbouring columns, so every row is read coalesced.
__global__ void bias_activation_backward_kernel(const float* dy, const float* y, float* dz,
                                                float* dbias, int64_t n, int64_t out,
                                                Activation act) {
  NABLA_GRID_STRIDE_LOOP(j, out) {
    float sum = 0.0f;
    for (int64_t r = 0; r < n; ++r) {
      const int64_t k = r * out + j;
      const float d = kernels::activation_backward(act, y[k], dy[k]);
      if (dz != nullptr) dz[k] = d;
      sum += d;
    }
    if (dbias != nullptr) dbias[j] += sum;
  }
}

// ---------------------------------------------------------------- launchers

void bias_activation_cuda(float* y, const float* bias, int64_t n, int64_t out, Activation act) {
  const int64_t numel = n * out;
  if (numel == 0) return;
  bias_activation_kernel<<<linear_blocks(numel), kBlockSize, 0, stream()>>>(y, bias, numel, out,
                                                                            act);
  NABLA_CUDA_CHECK_LAUNCH();
}

void bias_activation_backward_cuda(const float* dy, const float* y, float* dz, float* dbias,
                                   int64_t n, int64_t out, Activation act) {
  if (n * out == 0) return;
  bias_activation_backward_kernel<<<linear_blocks(out), kBlockSize, 0, stream()>>>(dy, y, dz, dbias,
                                                                                   n, out, act);
  NABLA_CUDA_CHECK_LAUNCH();
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::backend {
NABLA_REGISTER(bias_activation_stub, cuda, cuda_detail::bias_activation_cuda)
NABLA_REGISTER(bias_activation_backward_stub, cuda, cuda_detail::bias_activation_backward_cuda)
}  // namespace nabla::backend
