// Loop helpers for the CPU backend: a parallel-for with a fixed split of work (so results do not
// depend on scheduling) and an n-ary strided iterator that collapses contiguous dimensions.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "backend/strided_layout.h"
#include "backend/vector_clones.h"
#include "nabla/tensor.h"

namespace nabla::cpu {

// Below this many elements a loop runs on the calling thread: handing half to an awake worker
// costs more.
constexpr int64_t kParallelGrain = 32768;

// The thread pool (threads.cpp). run_parallel calls job(ctx, t, threads) once for every t in
// [0, threads), t = 0 on the calling thread, and returns when all are done; an exception thrown
// by any of them is rethrown.
using ParallelJob = void (*)(const void* ctx, int t, int threads);
void run_parallel(ParallelJob job, const void* ctx);
int pool_threads();
int thread_index();  // the chunk the calling thread runs: 0 .. threads - 1 (0 outside loops)
bool in_parallel();  // true inside a parallel loop (a nested loop runs on its own thread)

// Runs body(begin, end) over [0, n) in equal static chunks, one per thread.
template <typename F>
void parallel_for(int64_t n, int64_t grain, F&& body) {
  if (n <= grain || pool_threads() == 1 || in_parallel()) {
    if (n > 0) body(int64_t{0}, n);
    return;
  }
  auto chunked = [&](int t, int threads) {
    const int64_t chunk = (n + threads - 1) / threads;
    const int64_t begin = t * chunk;
    const int64_t end = begin + chunk < n ? begin + chunk : n;
    if (begin < end) body(begin, end);
  };
  using Chunked = decltype(chunked);
  run_parallel(
      [](const void* ctx, int t, int threads) { (*static_cast<const Chunked*>(ctx))(t, threads); },
      &chunked);
}

// Iterates over a shape for N operands with their own strides (in elements), one innermost row
// at a time: body(row_offsets, inner_length, inner_strides).
template <size_t N>
struct StridedLoop : ops::StridedLayout<N> {
  using ops::StridedLayout<N>::StridedLayout;
  using ops::StridedLayout<N>::sizes;
  using ops::StridedLayout<N>::strides;

  int64_t inner() const { return sizes.back(); }
  int64_t rows() const {
    int64_t r = 1;
    for (size_t d = 0; d + 1 < sizes.size(); ++d) r *= sizes[d];
    return r;
  }

  template <typename F>
  void run(F&& body) const {
    const int64_t n_rows = rows(), n_inner = inner();
    if (n_rows == 0 || n_inner == 0) return;  // an empty tensor
    std::array<int64_t, N> inner_strides;
    for (size_t k = 0; k < N; ++k) inner_strides[k] = strides[k].back();
    if (n_rows == 1) {  // one long row (a dense loop): split the row itself
      parallel_for(n_inner, kParallelGrain, [&](int64_t begin, int64_t end) {
        std::array<int64_t, N> off;
        for (size_t k = 0; k < N; ++k) off[k] = begin * inner_strides[k];
        body(off, end - begin, inner_strides);
      });
      return;
    }
    const int64_t grain = n_inner >= kParallelGrain ? 1 : kParallelGrain / n_inner;
    parallel_for(n_rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        std::array<int64_t, N> off{};
        int64_t rem = r;
        for (size_t d = sizes.size() - 1; d-- > 0;) {
          const int64_t i = rem % sizes[d];
          rem /= sizes[d];
          for (size_t k = 0; k < N; ++k) off[k] += i * strides[k][d];
        }
        body(off, n_inner, inner_strides);
      }
    });
  }
};

}  // namespace nabla::cpu
