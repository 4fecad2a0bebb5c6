// CUDA dropout: the mask of kernels/math/dropout.h, so element i is kept or dropped exactly as on
// the CPU for the same (seed, offset).
#include "backend/dropout.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/math/dropout.h"

namespace nabla::cuda_detail {
namespace {

// ---------------------------------------------------------------- kernels

__global__ void dropout_kernel(const float* in, float* out, int64_t n, float p, float scale,
                               uint64_t seed, uint64_t offset) {
  NABLA_GRID_STRIDE_LOOP(i, n) {
    out[i] = kernels::dropout_apply(in[i], seed, offset, static_cast<uint64_t>(i), p, scale);
  }
}

// ---------------------------------------------------------------- launchers

void dropout_cuda(const Tensor& in, const Tensor& out, float p, float scale, uint64_t seed,
                  uint64_t offset) {
  check_not_capturing_random("dropout");
  const int64_t n = in.numel();
  if (n == 0) return;
  dropout_kernel<<<linear_blocks(n), kBlockSize, 0, stream()>>>(in.data<float>(), out.data<float>(),
                                                                n, p, scale, seed, offset);
  NABLA_CUDA_CHECK_LAUNCH();
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::backend {
NABLA_REGISTER(dropout_stub, cuda, cuda_detail::dropout_cuda)
}  // namespace nabla::backend
