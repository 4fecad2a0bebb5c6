// CUDA batch normalisation over x viewed as (N, C, S), mirroring kernels/cpu/norm.cpp: one block
// per channel, statistics and the backward's two sums accumulated in double (as on the CPU), then
// the elementwise pass with the same float scale and shift (kernels/math/norm.h). Layer, group and
// instance norm reach these kernels through reshaped views.
#include "backend/norm.h"
#include "kernels/cuda/block_reduce.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/math/norm.h"

namespace nabla::cuda_detail {
namespace {

// ---------------------------------------------------------------- kernels

struct NormShape {
  int64_t n, c, s;
  // Element j (of N S) of channel ch.
  __device__ int64_t offset(int64_t j, int64_t ch) const { return (j / s * c + ch) * s + j % s; }
};

// Block ch normalises channel ch. weight, bias, running_mean and running_var may be null
// (the running statistics are required in eval mode).
__global__ void batch_norm_forward_kernel(const float* x, const float* weight, const float* bias,
                                          float* running_mean, float* running_var, float* y,
                                          float* save_mean, float* save_invstd, NormShape sh,
                                          bool training, double momentum, double eps) {
  const int64_t ch = blockIdx.x, count = sh.n * sh.s;
  __shared__ float scale_shift[2];
  double sum = 0.0, sumsq = 0.0;
  if (training) {
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
      const double v = x[sh.offset(j, ch)];
      sum += v, sumsq += v * v;
    }
    sum = block_sum(sum);
    sumsq = block_sum(sumsq);
  }
  if (threadIdx.x == 0) {
    const kernels::NormForward f = kernels::batch_norm_channel(
        sum, sumsq, count, training, momentum, eps, running_mean, running_var, weight, bias, ch);
    save_mean[ch] = static_cast<float>(f.mean);
    save_invstd[ch] = static_cast<float>(f.invstd);
    scale_shift[0] = f.scale;
    scale_shift[1] = f.shift;
  }
  __syncthreads();
  const float scale = scale_shift[0], shift = scale_shift[1];
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
    const int64_t o = sh.offset(j, ch);
    y[o] = x[o] * scale + shift;
  }
}

// Block ch: sum(dy) and sum(dy (x - mean)), then dx. dx, dweight, dbias and weight may be null.
__global__ void batch_norm_backward_kernel(const float* x, const float* dy, const float* weight,
                                           const float* save_mean, const float* save_invstd,
                                           float* dx, float* dweight, float* dbias, NormShape sh,
                                           bool training) {
  const int64_t ch = blockIdx.x, count = sh.n * sh.s;
  const double mean = save_mean[ch], invstd = save_invstd[ch];
  double sum_dy = 0.0, sum_dy_xmu = 0.0;
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
    const int64_t o = sh.offset(j, ch);
    sum_dy += dy[o];
    sum_dy_xmu += dy[o] * (x[o] - mean);
  }
  sum_dy = block_sum(sum_dy);
  sum_dy_xmu = block_sum(sum_dy_xmu);
  if (threadIdx.x == 0) {
    if (dweight != nullptr) dweight[ch] = static_cast<float>(sum_dy_xmu * invstd);
    if (dbias != nullptr) dbias[ch] = static_cast<float>(sum_dy);
  }
  if (dx == nullptr) return;
  const kernels::NormBackward b = kernels::batch_norm_backward_channel(
      sum_dy, sum_dy_xmu, mean, invstd, weight != nullptr ? weight[ch] : 1.0, count, training);
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
    const int64_t o = sh.offset(j, ch);
    dx[o] = b.dx(dy[o], x[o]);
  }
}

// ---------------------------------------------------------------- launchers

const float* optional_in(const Tensor& t) {
  return t.defined() ? t.data<float>() : nullptr;
}
float* optional_out(const Tensor& t) {
  return t.defined() ? t.data<float>() : nullptr;
}

void check_channels(int64_t c) {
  NABLA_CHECK(c < (1LL << 31), "batch_norm: too many channels ({}) for one launch", c);
}

void batch_norm_forward_cuda(const Tensor& x, const Tensor& weight, const Tensor& bias,
                             const Tensor& running_mean, const Tensor& running_var, const Tensor& y,
                             const Tensor& save_mean, const Tensor& save_invstd, int64_t n,
                             int64_t c, int64_t s, bool training, double momentum, double eps) {
  if (c == 0) return;
  check_channels(c);
  batch_norm_forward_kernel<<<static_cast<unsigned>(c), reduction_block_size(n * s), 0, stream()>>>(
      x.data<float>(), optional_in(weight), optional_in(bias), optional_out(running_mean),
      optional_out(running_var), y.data<float>(), save_mean.data<float>(),
      save_invstd.data<float>(), NormShape{n, c, s}, training, momentum, eps);
  NABLA_CUDA_CHECK_LAUNCH();
}

void batch_norm_backward_cuda(const Tensor& x, const Tensor& dy, const Tensor& weight,
                              const Tensor& save_mean, const Tensor& save_invstd, const Tensor& dx,
                              const Tensor& dweight, const Tensor& dbias, int64_t n, int64_t c,
                              int64_t s, bool training) {
  if (c == 0) return;
  check_channels(c);
  batch_norm_backward_kernel<<<static_cast<unsigned>(c), reduction_block_size(n * s), 0,
                               stream()>>>(x.data<float>(), dy.data<float>(), optional_in(weight),
                                           save_mean.data<float>(), save_invstd.data<float>(),
                                           optional_out(dx), optional_out(dweight),
                                           optional_out(dbias), NormShape{n, c, s}, training);
  NABLA_CUDA_CHECK_LAUNCH();
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::backend {
NABLA_REGISTER(batch_norm_forward_stub, cuda, cuda_detail::batch_norm_forward_cuda)
NABLA_REGISTER(batch_norm_backward_stub, cuda, cuda_detail::batch_norm_backward_cuda)
}  // namespace nabla::backend
