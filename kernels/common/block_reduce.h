// Warp and block reductions for kernels that reduce one row (or one channel) per warp or per
// block. Blocks must be a multiple of 32 threads, at most 1024.
#pragma once

#include <cuda_runtime.h>

namespace nabla::cuda_detail {

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;  // every lane holds the sum
}

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum of v over the block; every thread gets the result. Call it from all threads.
template <typename T>
__device__ T block_sum(T v) {
  __shared__ T partial[32];
  v = warp_sum(v);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / 32;
  v = lane < warps ? partial[lane] : T(0);
  v = warp_sum(v);  // every warp reduces the partials, so no second broadcast is needed
  __syncthreads();  // partial may be reused by the next call
  return v;
}

// Threads per block for a reduction over `count` elements: enough to cover them, 32 to 256.
inline int reduction_block_size(long long count) {
  int threads = 32;
  while (threads < 256 && threads < count) threads *= 2;
  return threads;
}

}  // namespace nabla::cuda_detail
