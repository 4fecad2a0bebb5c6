// CPU GEMM through OpenBLAS's CBLAS interface (row-major). OpenBLAS runs single-threaded (see
// threads.cpp); a large product is split here into column or row blocks of C, one per OpenMP
// thread, so that OpenBLAS's threads and the library's never compete for the same cores.
#include <cblas.h>

#include <algorithm>

#include "backend/gemm.h"
#include "kernels/cpu/loops.h"

namespace nabla::cpu {
namespace {

// Below this many flops (about 30 us of work) one thread is as fast.
constexpr double kParallelFlops = 5e6;
// Blocks of C are multiples of this many rows or columns (OpenBLAS's kernels work in such panels).
constexpr int64_t kBlock = 16;

// C[r0:r1, c0:c1] of one product.
void sgemm_block(const backend::GemmArgs& g, const float* a, const float* b, float* c, int64_t r0,
                 int64_t r1, int64_t c0, int64_t c1) {
  const float* ab = g.trans_a ? a + r0 : a + r0 * g.lda;
  const float* bb = g.trans_b ? b + c0 * g.ldb : b + c0;
  cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans,
              g.trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(r1 - r0),
              static_cast<blasint>(c1 - c0), static_cast<blasint>(g.k), g.alpha, ab,
              static_cast<blasint>(g.lda), bb, static_cast<blasint>(g.ldb), g.beta,
              c + r0 * g.ldc + c0, static_cast<blasint>(g.ldc));
}

// Where chunk t of `chunks` starts along a side of C: an equal share rounded to whole blocks,
// so that 100 rows split as 48 + 52, not 64 + 36.
int64_t split_point(int64_t side, int t, int chunks) {
  if (t == chunks) return side;
  const double share = static_cast<double>(side) * t / chunks / kBlock;
  return std::min(side, static_cast<int64_t>(share + 0.5) * kBlock);
}

void gemm_cpu(const backend::GemmArgs& g) {
  const bool parallel =
      pool_threads() > 1 &&
      2.0 * static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k) >=
          kParallelFlops;
  // Split the longer side of C.
  const bool by_rows = g.m > g.n;
  const int64_t side = by_rows ? g.m : g.n;
  for (int64_t i = 0; i < g.batch; ++i) {
    const float* a = g.a + i * g.stride_a;
    const float* b = g.b + i * g.stride_b;
    float* c = g.c + i * g.stride_c;
    if (!parallel) {
      sgemm_block(g, a, b, c, 0, g.m, 0, g.n);
      continue;
    }
    const int chunks = pool_threads();
    parallel_for(chunks, 1, [&](int64_t begin, int64_t end) {
      const int64_t lo = split_point(side, static_cast<int>(begin), chunks);
      const int64_t hi = split_point(side, static_cast<int>(end), chunks);
      if (lo >= hi) return;
      if (by_rows)
        sgemm_block(g, a, b, c, lo, hi, 0, g.n);
      else
        sgemm_block(g, a, b, c, 0, g.m, lo, hi);
    });
  }
}

}  // namespace
}  // namespace nabla::cpu

namespace nabla::backend {
NABLA_REGISTER(gemm_stub, cpu, cpu::gemm_cpu)
}  // namespace nabla::backend
