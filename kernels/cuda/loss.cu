// CUDA losses over the shared math of kernels/math/loss.h: cross-entropy fused with log-softmax
// (one warp per position: max, then the sums of exponentials and of logits in double, as on the
// CPU), NLL, and binary cross-entropy on logits. Class scores are (N, C, S): the classes of one
// position are S apart. A target outside [0, C) that is not ignore_index raises a device flag,
// reported as a nabla::Error once the kernel has finished.
#include <cmath>

#include "backend/loss.h"
#include "kernels/cuda/block_reduce.h"
#include "kernels/cuda/device_flag.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/math/loss.h"

namespace nabla::cuda_detail {
namespace {

// ---------------------------------------------------------------- kernels

__device__ __forceinline__ bool target_ok(int64_t t, int64_t c, int64_t ignore_index, int* bad) {
  if (t == ignore_index) return false;
  if (t < 0 || t >= c) {
    *bad = 1;
    return false;
  }
  return true;
}

// One warp per position i = n S + s; all lanes of a warp share i, so the shuffles converge.
__global__ void cross_entropy_forward_kernel(const float* x, const int64_t* target, float* loss,
                                             float* lse, int64_t n, int64_t c, int64_t s,
                                             double label_smoothing, int64_t ignore_index,
                                             int* bad) {
  const int lane = threadIdx.x % 32;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * blockDim.x / 32;
  for (int64_t i = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32; i < n * s;
       i += warps) {
    const float* row = x + i / s * c * s + i % s;  // class k at row[k * s]
    float m = -INFINITY;
    for (int64_t k = lane; k < c; k += 32) m = fmaxf(m, row[k * s]);
    m = warp_max(m);
    double sum_exp = 0.0, sum_x = 0.0;
    for (int64_t k = lane; k < c; k += 32) {
      sum_exp += exp(static_cast<double>(row[k * s]) - m);
      sum_x += row[k * s];
    }
    sum_exp = warp_sum(sum_exp);
    sum_x = warp_sum(sum_x);
    if (lane != 0) continue;
    const double l = m + log(sum_exp);
    lse[i] = static_cast<float>(l);
    const int64_t t = target[i];
    loss[i] = target_ok(t, c, ignore_index, bad)
                  ? static_cast<float>(kernels::cross_entropy_from_lse(
                        l, row[t * s], sum_x / static_cast<double>(c), label_smoothing))
                  : 0.0f;
  }
}

// One thread per logit (n, k, s).
__global__ void cross_entropy_backward_kernel(const float* x, const int64_t* target,
                                              const float* lse, const float* dloss, float* dx,
                                              int64_t c, int64_t s, int64_t total, float on,
                                              float off, int64_t ignore_index) {
  NABLA_GRID_STRIDE_LOOP(j, total) {
    const int64_t k = j / s % c, i = j / (c * s) * s + j % s;
    const int64_t t = target[i];
    dx[j] = t == ignore_index
                ? 0.0f
                : kernels::cross_entropy_dlogit(x[j], lse[i], dloss[i], k == t, on, off);
  }
}

__global__ void nll_loss_forward_kernel(const float* x, const int64_t* target, float* loss,
                                        int64_t c, int64_t s, int64_t positions,
                                        int64_t ignore_index, int* bad) {
  NABLA_GRID_STRIDE_LOOP(i, positions) {
    const int64_t t = target[i];
    loss[i] = target_ok(t, c, ignore_index, bad) ? -x[(i / s * c + t) * s + i % s] : 0.0f;
  }
}

// dx is zero; each position writes its own target's slot.
__global__ void nll_loss_backward_kernel(const int64_t* target, const float* dloss, float* dx,
                                         int64_t c, int64_t s, int64_t positions,
                                         int64_t ignore_index) {
  NABLA_GRID_STRIDE_LOOP(i, positions) {
    const int64_t t = target[i];
    if (t != ignore_index && t >= 0 && t < c) dx[(i / s * c + t) * s + i % s] = -dloss[i];
  }
}

// One block: each thread sums a strided share of the positions, then the block adds them.
__global__ void class_loss_mean_kernel(const float* loss, const int64_t* target, float* mean,
                                       float* count, int64_t positions, int64_t ignore_index) {
  double sum = 0.0;
  long long kept = 0;
  for (int64_t i = threadIdx.x; i < positions; i += blockDim.x) {
    sum += loss[i];
    kept += target[i] != ignore_index;
  }
  sum = block_sum(sum);
  kept = block_sum(kept);
  if (threadIdx.x != 0) return;
  const float k = static_cast<float>(kept);
  *count = k;
  *mean = static_cast<float>(sum) / k;
}

__global__ void bce_with_logits_forward_kernel(const float* x, const float* target,
                                               const float* pos_weight, float* loss, int64_t n) {
  NABLA_GRID_STRIDE_LOOP(i, n) {
    loss[i] =
        kernels::bce_with_logits(x[i], target[i], pos_weight != nullptr ? pos_weight[i] : 1.0f);
  }
}

__global__ void bce_with_logits_backward_kernel(const float* x, const float* target,
                                                const float* pos_weight, const float* dloss,
                                                float* dx, float* dtarget, float* dpos_weight,
                                                int64_t n) {
  NABLA_GRID_STRIDE_LOOP(i, n) {
    const float w = pos_weight != nullptr ? pos_weight[i] : 1.0f, g = dloss[i];
    if (dx != nullptr) dx[i] = g * kernels::bce_with_logits_dx(x[i], target[i], w);
    if (dtarget != nullptr) dtarget[i] = g * kernels::bce_with_logits_dtarget(x[i], target[i], w);
    if (dpos_weight != nullptr)
      dpos_weight[i] = g * kernels::bce_with_logits_dpos_weight(x[i], target[i]);
  }
}

// ---------------------------------------------------------------- launchers

void check_flag(const DeviceFlag& bad, const char* op, int64_t c, int64_t ignore_index) {
  NABLA_CHECK(!bad.raised(),
              "{}: a target is out of range for {} classes (expected 0..{}, or ignore_index {})",
              op, c, c - 1, ignore_index);
}

float* optional_data(const Tensor& t) {
  return t.defined() ? t.data<float>() : nullptr;
}

void cross_entropy_forward_cuda(const Tensor& logits, const Tensor& target, const Tensor& loss,
                                const Tensor& lse, int64_t n, int64_t c, int64_t s,
                                double label_smoothing, int64_t ignore_index) {
  const int64_t positions = n * s;
  if (positions == 0) return;
  DeviceFlag bad;
  cross_entropy_forward_kernel<<<linear_blocks(positions * 32), kBlockSize, 0, stream()>>>(
      logits.data<float>(), target.data<int64_t>(), loss.data<float>(), lse.data<float>(), n, c, s,
      label_smoothing, ignore_index, bad.get());
  NABLA_CUDA_CHECK_LAUNCH();
  check_flag(bad, "cross_entropy", c, ignore_index);
}

void cross_entropy_backward_cuda(const Tensor& logits, const Tensor& target, const Tensor& lse,
                                 const Tensor& dloss, const Tensor& dlogits, int64_t n, int64_t c,
                                 int64_t s, double label_smoothing, int64_t ignore_index) {
  const int64_t total = n * c * s;
  if (total == 0) return;
  const float off = static_cast<float>(label_smoothing / static_cast<double>(c));
  const float on = static_cast<float>(1.0 - label_smoothing);
  cross_entropy_backward_kernel<<<linear_blocks(total), kBlockSize, 0, stream()>>>(
      logits.data<float>(), target.data<int64_t>(), lse.data<float>(), dloss.data<float>(),
      dlogits.data<float>(), c, s, total, on, off, ignore_index);
  NABLA_CUDA_CHECK_LAUNCH();
}

void nll_loss_forward_cuda(const Tensor& log_probs, const Tensor& target, const Tensor& loss,
                           int64_t n, int64_t c, int64_t s, int64_t ignore_index) {
  const int64_t positions = n * s;
  if (positions == 0) return;
  DeviceFlag bad;
  nll_loss_forward_kernel<<<linear_blocks(positions), kBlockSize, 0, stream()>>>(
      log_probs.data<float>(), target.data<int64_t>(), loss.data<float>(), c, s, positions,
      ignore_index, bad.get());
  NABLA_CUDA_CHECK_LAUNCH();
  check_flag(bad, "nll_loss", c, ignore_index);
}

void nll_loss_backward_cuda(const Tensor& target, const Tensor& dloss, const Tensor& dlog_probs,
                            int64_t n, int64_t c, int64_t s, int64_t ignore_index) {
  const int64_t positions = n * s;
  NABLA_CUDA_CHECK(cudaMemsetAsync(dlog_probs.data<float>(), 0,
                                   static_cast<size_t>(n * c * s) * sizeof(float), stream()));
  if (positions == 0) return;
  nll_loss_backward_kernel<<<linear_blocks(positions), kBlockSize, 0, stream()>>>(
      target.data<int64_t>(), dloss.data<float>(), dlog_probs.data<float>(), c, s, positions,
      ignore_index);
  NABLA_CUDA_CHECK_LAUNCH();
}

void class_loss_mean_cuda(const Tensor& loss, const Tensor& target, const Tensor& mean,
                          const Tensor& count, int64_t ignore_index) {
  const int64_t positions = loss.numel();
  class_loss_mean_kernel<<<1, reduction_block_size(positions), 0, stream()>>>(
      loss.data<float>(), target.data<int64_t>(), mean.data<float>(), count.data<float>(),
      positions, ignore_index);
  NABLA_CUDA_CHECK_LAUNCH();
}

void bce_with_logits_forward_cuda(const Tensor& x, const Tensor& target, const Tensor& pos_weight,
                                  const Tensor& loss) {
  const int64_t n = x.numel();
  if (n == 0) return;
  bce_with_logits_forward_kernel<<<linear_blocks(n), kBlockSize, 0, stream()>>>(
      x.data<float>(), target.data<float>(), optional_data(pos_weight), loss.data<float>(), n);
  NABLA_CUDA_CHECK_LAUNCH();
}

void bce_with_logits_backward_cuda(const Tensor& x, const Tensor& target, const Tensor& pos_weight,
                                   const Tensor& dloss, const Tensor& dx, const Tensor& dtarget,
                                   const Tensor& dpos_weight) {
  const int64_t n = x.numel();
  if (n == 0) return;
  bce_with_logits_backward_kernel<<<linear_blocks(n), kBlockSize, 0, stream()>>>(
      x.data<float>(), target.data<float>(), optional_data(pos_weight), dloss.data<float>(),
      optional_data(dx), optional_data(dtarget), optional_data(dpos_weight), n);
  NABLA_CUDA_CHECK_LAUNCH();
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::backend {
NABLA_REGISTER(cross_entropy_forward_stub, cuda, cuda_detail::cross_entropy_forward_cuda)
NABLA_REGISTER(cross_entropy_backward_stub, cuda, cuda_detail::cross_entropy_backward_cuda)
NABLA_REGISTER(nll_loss_forward_stub, cuda, cuda_detail::nll_loss_forward_cuda)
NABLA_REGISTER(nll_loss_backward_stub, cuda, cuda_detail::nll_loss_backward_cuda)
NABLA_REGISTER(class_loss_mean_stub, cuda, cuda_detail::class_loss_mean_cuda)
NABLA_REGISTER(bce_with_logits_forward_stub, cuda, cuda_detail::bce_with_logits_forward_cuda)
NABLA_REGISTER(bce_with_logits_backward_stub, cuda, cuda_detail::bce_with_logits_backward_cuda)
}  // namespace nabla::backend
