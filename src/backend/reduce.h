// Reductions over the middle axis of a contiguous (outer, n, inner) view, and softmax.
#pragma once

#include <cstdint>

#include "backend/dispatch.h"
#include "nabla/reduce_op.h"
#include "nabla/tensor.h"

namespace nabla::backend {

using nabla::ReduceOp;

NABLA_DECLARE_STUB(reduce_stub, void(ReduceOp op, const Tensor& x, const Tensor& out, int64_t outer,
                                     int64_t n, int64_t inner));
NABLA_DECLARE_STUB(argmax_stub, void(const Tensor& x, const Tensor& out, int64_t outer, int64_t n,
                                     int64_t inner));  // out int64
// Softmax over the last axis of contiguous (rows, cols); log = log_softmax.
NABLA_DECLARE_STUB(softmax_stub,
                   void(const Tensor& x, const Tensor& out, int64_t rows, int64_t cols, bool log));
// dx from the forward output y and dy, same layout.
NABLA_DECLARE_STUB(softmax_backward_stub, void(const Tensor& y, const Tensor& dy, const Tensor& dx,
                                               int64_t rows, int64_t cols, bool log));

}  // namespace nabla::backend
