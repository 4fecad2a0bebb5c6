// Gathers and scatters along an axis, and the row gather of the device-resident data loader.
#pragma once

#include <cstdint>

#include "backend/dispatch.h"
#include "nabla/tensor.h"

namespace nabla::backend {

// Along the middle axis: x (outer, n, inner), index and out (outer, k, inner), all contiguous.
NABLA_DECLARE_STUB(gather_stub, void(const Tensor& x, const Tensor& index, const Tensor& out,
                                     int64_t outer, int64_t n, int64_t k, int64_t inner));
// Rows of any dtype: out (B, row...) row b = src (N, row...) row index[b], all contiguous on one
// device. The caller guarantees 0 <= index[b] < N (a device backend does not read it back).
NABLA_DECLARE_STUB(gather_rows_stub,
                   void(const Tensor& src, const Tensor& index, const Tensor& out));
// out (outer, n, inner) += src (outer, k, inner) scattered by index.
NABLA_DECLARE_STUB(scatter_add_stub, void(const Tensor& src, const Tensor& index, const Tensor& out,
                                          int64_t outer, int64_t n, int64_t k, int64_t inner));

}  // namespace nabla::backend
