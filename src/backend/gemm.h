// Matrix products for every op that multiplies matrices (matmul, linear, the convolutions on the
// CPU).
#pragma once

#include <cstdint>

#include "backend/dispatch.h"
#include "nabla/precision.h"

namespace nabla::backend {

// GEMM, row-major: C = alpha * op(A) op(B) + beta * C, over `batch` strided matrices.
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f, beta = 0.0f;
  const float* a = nullptr;
  int64_t lda = 0, stride_a = 0;
  const float* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  float* c = nullptr;
  int64_t ldc = 0, stride_c = 0;
  int64_t batch = 1;
  // A type that A and B hold exactly (see nabla/precision.h): a backend may multiply in it, with
  // float32 accumulation, and get the same products.
  Precision operands = Precision::fp32;
};
NABLA_DECLARE_STUB(gemm_stub, void(const GemmArgs& args));

}  // namespace nabla::backend
