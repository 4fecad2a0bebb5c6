// The warp and block reductions of every CUDA kernel that reduces one row (or one channel) per
// warp or per block. Blocks must be a multiple of 32 threads, at most 1024. Lane 0 combines the
// same pairs in the same order on every run, so the results are deterministic.
#pragma once

#include <cuda_runtime.h>

namespace nabla::cuda_detail {

struct Plus {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a + b;
  }
};
// The larger value, NaN if either is (as torch.max).
struct MaxPropagatingNaN {
  __device__ __forceinline__ float operator()(float a, float b) const {
    return (a > b || a != a) ? a : b;
  }
};
// The larger value, the other if one is NaN.
struct MaxIgnoringNaN {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// v combined over the warp by a butterfly; every lane holds the result.
template <typename T, typename Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  return warp_reduce(v, Plus{});
}
__device__ __forceinline__ float warp_max(float v) {
  return warp_reduce(v, MaxIgnoringNaN{});
}

// v combined over the block; every thread gets the result. Call it from all threads.
template <typename T, typename Op>
__device__ T block_reduce(T v, Op op, T identity) {
  __shared__ T partial[32];
  v = warp_reduce(v, op);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / 32;
  v = lane < warps ? partial[lane] : identity;
  v = warp_reduce(v, op);  // every warp reduces the partials, so no second broadcast is needed
  __syncthreads();         // partial may be reused by the next call
  return v;
}
template <typename T>
__device__ T block_sum(T v) {
  return block_reduce(v, Plus{}, T(0));
}

// Threads per block for a reduction over `count` elements: enough to cover them, 32 to 256.
inline int reduction_block_size(long long count) {
  int threads = 32;
  while (threads < 256 && threads < count) threads *= 2;
  return threads;
}

}  // namespace nabla::cuda_detail
