// What the in-memory datasets share: checking the batch tensors a caller hands to gather(), and
// walking a batch's rows with the next rows' memory already requested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "nabla/error.h"
#include "nabla/tensor.h"

namespace nabla::data::detail {

// (batch, sample...).
Shape with_batch(int64_t batch, const Shape& sample);

// Throws unless `t` is a contiguous CPU tensor of `dtype` and shape (batch, sample...); `what`
// names it in the message ("inputs" or "targets").
void check_batch_tensor(const Tensor& t, int64_t batch, const Shape& sample, DType dtype,
                        const char* what);

// Asks for the cache lines of [p, p + bytes) ahead of their use: a hint that never faults.
inline void prefetch_bytes(const void* p, std::size_t bytes) {
  constexpr std::size_t kLine = 64;
  const auto* first = static_cast<const char*>(p);
  for (std::size_t b = 0; b < bytes; b += kLine) __builtin_prefetch(first + b);
}

// Calls copy_row(i, k) for each position i of `indices` and its sample k, after checking that
// k is in [0, n). The rows of a shuffled batch lie anywhere in the data set, each a separate
// trip to memory that the hardware prefetcher cannot foresee, so prefetch(k) is called for the
// samples of the next rows (those in range) while this one is copied.
template <class Prefetch, class CopyRow>
void for_each_row(std::span<const int64_t> indices, int64_t n, Prefetch prefetch,
                  CopyRow copy_row) {
  constexpr std::size_t kAhead = 2;  // rows in flight
  auto request = [&](int64_t k) {
    if (k >= 0 && k < n) prefetch(k);
  };
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const int64_t k = indices[i];
    NABLA_CHECK(k >= 0 && k < n, "Dataset::gather: index {} is out of range for {} samples", k, n);
    for (std::size_t a = i == 0 ? 1 : kAhead; a <= kAhead && i + a < indices.size(); ++a)
      request(indices[i + a]);
    copy_row(i, k);
  }
}

}  // namespace nabla::data::detail
