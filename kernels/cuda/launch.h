// Launch helpers for the CUDA kernels: the strided layout of an n-ary loop in a form a kernel
// can take by value, and the per-element offset computation.
#pragma once

#include <cstdint>

#include "backend/strided_layout.h"
#include "kernels/cuda/cuda_check.h"

namespace nabla::cuda_detail {

constexpr int kMaxDims = 8;

template <size_t N>
struct DeviceLayout {
  int ndim;
  int64_t sizes[kMaxDims];
  int64_t strides[N][kMaxDims];
};

template <size_t N>
DeviceLayout<N> device_layout(const ops::StridedLayout<N>& l) {
  NABLA_CHECK(l.sizes.size() <= kMaxDims,
              "CUDA elementwise ops support at most {} non-mergeable dimensions, got {}", kMaxDims,
              l.sizes.size());
  DeviceLayout<N> d{};
  d.ndim = static_cast<int>(l.sizes.size());
  for (int i = 0; i < d.ndim; ++i) {
    d.sizes[i] = l.sizes[i];
    for (size_t k = 0; k < N; ++k) d.strides[k][i] = l.strides[k][i];
  }
  return d;
}

// Offsets of row-major element i for each operand.
template <size_t N>
__device__ __forceinline__ void element_offsets(const DeviceLayout<N>& l, int64_t i,
                                                int64_t (&off)[N]) {
#pragma unroll
  for (size_t k = 0; k < N; ++k) off[k] = 0;
  for (int d = l.ndim - 1; d >= 0; --d) {
    const int64_t idx = i % l.sizes[d];
    i /= l.sizes[d];
#pragma unroll
    for (size_t k = 0; k < N; ++k) off[k] += idx * l.strides[k][d];
  }
}

#define NABLA_GRID_STRIDE_LOOP(i, n)                                                     \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

}  // namespace nabla::cuda_detail
