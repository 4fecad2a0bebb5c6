// CPU GEMM through OpenBLAS's CBLAS interface (row-major).
#include <cblas.h>

#include "ops/core_stubs.h"

namespace nabla::cpu {
namespace {

void gemm_cpu(const ops::GemmArgs& g) {
  const auto ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = g.trans_b ? CblasTrans : CblasNoTrans;
  for (int64_t i = 0; i < g.batch; ++i) {
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<blasint>(g.m), static_cast<blasint>(g.n),
                static_cast<blasint>(g.k), g.alpha, g.a + i * g.stride_a,
                static_cast<blasint>(g.lda), g.b + i * g.stride_b, static_cast<blasint>(g.ldb),
                g.beta, g.c + i * g.stride_c, static_cast<blasint>(g.ldc));
  }
}

}  // namespace
}  // namespace nabla::cpu

namespace nabla::ops {
NABLA_REGISTER(gemm_stub, cpu, cpu::gemm_cpu)
}  // namespace nabla::ops
