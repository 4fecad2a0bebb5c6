// CPU dropout: the mask of kernels/math/dropout.h applied elementwise. Each element's mask bit
// depends only on its index, so any thread split gives the same result.
#include "kernels/math/dropout.h"
#include "backend/dropout.h"
#include "kernels/cpu/loops.h"

namespace nabla::cpu {
namespace {

void dropout_cpu(const Tensor& in, const Tensor& out, float p, float scale, uint64_t seed,
                 uint64_t offset) {
  const float* src = in.data<float>();
  float* dst = out.data<float>();
  parallel_for(in.numel(), kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      dst[i] = kernels::dropout_apply(src[i], seed, offset, static_cast<uint64_t>(i), p, scale);
  });
}

}  // namespace
}  // namespace nabla::cpu

namespace nabla::backend {
NABLA_REGISTER(dropout_stub, cpu, cpu::dropout_cpu)
}  // namespace nabla::backend
