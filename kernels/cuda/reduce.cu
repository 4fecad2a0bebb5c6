// CUDA reductions, softmax and gather/scatter. A row reduction (inner == 1) uses one block per
// row with a warp-shuffle tree; a strided one uses one thread per output element.
#include <cfloat>

#include "backend/indexing.h"
#include "backend/reduce.h"
#include "kernels/cuda/block_reduce.h"
#include "kernels/cuda/device_flag.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"

namespace nabla::cuda_detail {
namespace {

template <bool kSum>
__device__ __forceinline__ float combine(float a, float b) {
  return kSum ? a + b : MaxPropagatingNaN{}(a, b);
}

// Reduces `v` across the block; every thread gets the result.
template <bool kSum>
__device__ float row_reduce(float v) {
  if constexpr (kSum)
    return block_sum(v);
  else
    return block_reduce(v, MaxPropagatingNaN{}, -FLT_MAX);
}

template <bool kSum>
__global__ void reduce_rows_kernel(const float* x, float* out, int64_t n) {
  const float* row = x + blockIdx.x * n;
  float acc = kSum ? 0.0f : -INFINITY;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) acc = combine<kSum>(acc, row[i]);
  acc = row_reduce<kSum>(acc);
  if (threadIdx.x == 0) out[blockIdx.x] = acc;
}

template <bool kSum>
__global__ void reduce_strided_kernel(const float* x, float* out, int64_t outer, int64_t n,
                                      int64_t inner) {
  NABLA_GRID_STRIDE_LOOP(idx, outer * inner) {
    const int64_t r = idx / inner, c = idx % inner;
    const float* p = x + r * n * inner + c;
    float acc = kSum ? 0.0f : -INFINITY;
    for (int64_t i = 0; i < n; ++i) acc = combine<kSum>(acc, p[i * inner]);
    out[idx] = acc;
  }
}

__global__ void argmax_kernel(const float* x, int64_t* out, int64_t outer, int64_t n,
                              int64_t inner) {
  NABLA_GRID_STRIDE_LOOP(idx, outer * inner) {
    const int64_t r = idx / inner, c = idx % inner;
    const float* p = x + r * n * inner + c;
    int64_t best = 0;
    float m = p[0];
    for (int64_t i = 1; i < n; ++i) {
      const float v = p[i * inner];
      if (v > m || (v != v && m == m)) m = v, best = i;
    }
    out[idx] = best;
  }
}

__global__ void softmax_kernel(const float* x, float* y, int64_t cols, bool log) {
  const float* xr = x + blockIdx.x * cols;
  float* yr = y + blockIdx.x * cols;
  float m = -INFINITY;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) m = fmaxf(m, xr[i]);
  m = row_reduce<false>(m);
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) s += expf(xr[i] - m);
  s = row_reduce<true>(s);
  const float lse = m + logf(s), inv = 1.0f / s;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x)
    yr[i] = log ? xr[i] - lse : expf(xr[i] - m) * inv;
}

// softmax: dx = y (dy - sum(dy y)); log_softmax: dx = dy - exp(y) sum(dy)
__global__ void softmax_backward_kernel(const float* y, const float* dy, float* dx, int64_t cols,
                                        bool log) {
  const int64_t base = blockIdx.x * cols;
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x)
    s += log ? dy[base + i] : dy[base + i] * y[base + i];
  s = row_reduce<true>(s);
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
    const int64_t j = base + i;
    dx[j] = log ? dy[j] - expf(y[j]) * s : y[j] * (dy[j] - s);
  }
}

__global__ void gather_kernel(const float* x, const int64_t* index, float* out, int64_t total,
                              int64_t n, int64_t k, int64_t inner, int* bad) {
  NABLA_GRID_STRIDE_LOOP(pos, total) {
    const int64_t c = pos % inner, r = pos / (k * inner);
    const int64_t i = index[pos];
    if (i < 0 || i >= n) {
      *bad = 1;
      out[pos] = 0.0f;
    } else {
      out[pos] = x[(r * n + i) * inner + c];
    }
  }
}

// One 32-bit word per thread: rows of float32 and int64 are whole words.
__global__ void gather_rows_kernel(const uint32_t* src, const int64_t* index, uint32_t* out,
                                   int64_t total, int64_t row_words) {
  NABLA_GRID_STRIDE_LOOP(pos, total) {
    const int64_t b = pos / row_words, w = pos % row_words;
    out[pos] = src[index[b] * row_words + w];
  }
}

__global__ void scatter_add_kernel(const float* src, const int64_t* index, float* out,
                                   int64_t total, int64_t n, int64_t k, int64_t inner, int* bad) {
  NABLA_GRID_STRIDE_LOOP(pos, total) {
    const int64_t c = pos % inner, r = pos / (k * inner);
    const int64_t i = index[pos];
    if (i < 0 || i >= n)
      *bad = 1;
    else
      atomicAdd(out + (r * n + i) * inner + c, src[pos]);
  }
}

// ---------------------------------------------------------------- launchers

void reduce_cuda(ReduceOp op, const Tensor& x, const Tensor& out, int64_t outer, int64_t n,
                 int64_t inner) {
  const bool sum = op == ReduceOp::Sum;
  if (outer * inner == 0) return;
  if (inner == 1) {
    NABLA_CHECK(outer < (1LL << 31), "reduce: too many rows ({}) for one launch", outer);
    if (sum)
      reduce_rows_kernel<true>
          <<<outer, kBlockSize, 0, stream()>>>(x.data<float>(), out.data<float>(), n);
    else
      reduce_rows_kernel<false>
          <<<outer, kBlockSize, 0, stream()>>>(x.data<float>(), out.data<float>(), n);
  } else {
    const unsigned blocks = linear_blocks(outer * inner);
    if (sum)
      reduce_strided_kernel<true><<<blocks, kBlockSize, 0, stream()>>>(
          x.data<float>(), out.data<float>(), outer, n, inner);
    else
      reduce_strided_kernel<false><<<blocks, kBlockSize, 0, stream()>>>(
          x.data<float>(), out.data<float>(), outer, n, inner);
  }
  NABLA_CUDA_CHECK_LAUNCH();
}

void argmax_cuda(const Tensor& x, const Tensor& out, int64_t outer, int64_t n, int64_t inner) {
  if (outer * inner == 0) return;
  argmax_kernel<<<linear_blocks(outer * inner), kBlockSize, 0, stream()>>>(
      x.data<float>(), out.data<int64_t>(), outer, n, inner);
  NABLA_CUDA_CHECK_LAUNCH();
}

void softmax_cuda(const Tensor& x, const Tensor& out, int64_t rows, int64_t cols, bool log) {
  NABLA_CHECK(rows < (1LL << 31), "softmax: too many rows ({}) for one launch", rows);
  softmax_kernel<<<rows, kBlockSize, 0, stream()>>>(x.data<float>(), out.data<float>(), cols, log);
  NABLA_CUDA_CHECK_LAUNCH();
}

void softmax_backward_cuda(const Tensor& y, const Tensor& dy, const Tensor& dx, int64_t rows,
                           int64_t cols, bool log) {
  NABLA_CHECK(rows < (1LL << 31), "softmax: too many rows ({}) for one launch", rows);
  softmax_backward_kernel<<<rows, kBlockSize, 0, stream()>>>(y.data<float>(), dy.data<float>(),
                                                             dx.data<float>(), cols, log);
  NABLA_CUDA_CHECK_LAUNCH();
}

// Index errors are flagged on the device (DeviceFlag) and reported once the kernel has finished.
void gather_cuda(const Tensor& x, const Tensor& index, const Tensor& out, int64_t outer, int64_t n,
                 int64_t k, int64_t inner) {
  const int64_t total = outer * k * inner;
  if (total == 0) return;
  DeviceFlag bad;
  gather_kernel<<<linear_blocks(total), kBlockSize, 0, stream()>>>(
      x.data<float>(), index.data<int64_t>(), out.data<float>(), total, n, k, inner, bad.get());
  NABLA_CUDA_CHECK_LAUNCH();
  NABLA_CHECK(!bad.raised(), "gather: an index is out of range for a dimension of size {}", n);
}

void gather_rows_cuda(const Tensor& src, const Tensor& index, const Tensor& out) {
  const int64_t rows = index.numel();
  if (rows == 0 || out.numel() == 0) return;
  const int64_t row_words = out.numel() / rows * static_cast<int64_t>(dtype_size(out.dtype())) / 4;
  const int64_t total = rows * row_words;
  gather_rows_kernel<<<linear_blocks(total), kBlockSize, 0, stream()>>>(
      static_cast<const uint32_t*>(src.raw_data()), index.data<int64_t>(),
      static_cast<uint32_t*>(out.raw_data()), total, row_words);
  NABLA_CUDA_CHECK_LAUNCH();
}

void scatter_add_cuda(const Tensor& src, const Tensor& index, const Tensor& out, int64_t outer,
                      int64_t n, int64_t k, int64_t inner) {
  const int64_t total = outer * k * inner;
  if (total == 0) return;
  DeviceFlag bad;
  scatter_add_kernel<<<linear_blocks(total), kBlockSize, 0, stream()>>>(
      src.data<float>(), index.data<int64_t>(), out.data<float>(), total, n, k, inner, bad.get());
  NABLA_CUDA_CHECK_LAUNCH();
  NABLA_CHECK(!bad.raised(), "scatter_add: an index is out of range for a dimension of size {}", n);
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::backend {
NABLA_REGISTER(reduce_stub, cuda, cuda_detail::reduce_cuda)
NABLA_REGISTER(argmax_stub, cuda, cuda_detail::argmax_cuda)
NABLA_REGISTER(softmax_stub, cuda, cuda_detail::softmax_cuda)
NABLA_REGISTER(softmax_backward_stub, cuda, cuda_detail::softmax_backward_cuda)
NABLA_REGISTER(gather_stub, cuda, cuda_detail::gather_cuda)
NABLA_REGISTER(gather_rows_stub, cuda, cuda_detail::gather_rows_cuda)
NABLA_REGISTER(scatter_add_stub, cuda, cuda_detail::scatter_add_cuda)
}  // namespace nabla::backend
