// Elementwise ops; the per-element math is kernels/math/elementwise.h, shared by both backends.
#pragma once

#include "backend/dispatch.h"
#include "kernels/math/elementwise.h"
#include "nabla/tensor.h"

namespace nabla::backend {

using kernels::BinaryOp;
using kernels::UnaryOp;

// out contiguous float32.
// x contiguous with out's numel.
NABLA_DECLARE_STUB(unary_stub,
                   void(UnaryOp op, const Tensor& x, const Tensor& out, float p0, float p1));
// a and b are strided views with out's shape (broadcast dims have stride 0).
NABLA_DECLARE_STUB(binary_stub, void(BinaryOp op, const Tensor& a, const Tensor& b,
                                     const Tensor& out, float p, float q));
// out = cond != 0 ? a : b, all three strided views with out's shape.
NABLA_DECLARE_STUB(where_stub,
                   void(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out));

}  // namespace nabla::backend
