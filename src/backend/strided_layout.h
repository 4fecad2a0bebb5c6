// The layout of an n-ary elementwise loop: a shape and one stride vector per operand, with
// adjacent dims merged wherever they are contiguous for every operand (a dense loop becomes
// one long row). Shared by the CPU loops and the CUDA launchers.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "nabla/shape.h"

namespace nabla::ops {

template <size_t N>
struct StridedLayout {
  std::vector<int64_t> sizes;                   // merged sizes, innermost last
  std::array<std::vector<int64_t>, N> strides;  // merged strides per operand, in elements

  StridedLayout(const Shape& shape, const std::array<const std::vector<int64_t>*, N>& in) {
    for (size_t d = 0; d < shape.dims.size(); ++d) {
      if (shape.dims[d] == 1) continue;  // size-1 dims never move an offset
      bool merge = !sizes.empty();
      for (size_t k = 0; k < N && merge; ++k)
        merge = strides[k].back() == (*in[k])[d] * shape.dims[d];
      if (merge) {
        sizes.back() *= shape.dims[d];
        for (size_t k = 0; k < N; ++k) strides[k].back() = (*in[k])[d];
      } else {
        sizes.push_back(shape.dims[d]);
        for (size_t k = 0; k < N; ++k) strides[k].push_back((*in[k])[d]);
      }
    }
    if (sizes.empty()) {
      sizes.push_back(1);
      for (size_t k = 0; k < N; ++k) strides[k].push_back(0);
    }
  }

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t s : sizes) n *= s;
    return n;
  }
};

}  // namespace nabla::ops
