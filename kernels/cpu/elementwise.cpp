// CPU elementwise loops over the shared functions of kernels/math/elementwise.h, and random fills
// from the shared Philox stream.
#include "backend/elementwise.h"
#include "backend/dispatch.h"
#include "backend/random.h"
#include "kernels/cpu/loops.h"
#include "kernels/math/philox.h"

namespace nabla::cpu {
namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

// Autocast rounds every product's operands and output: bit operations and selects that run 16
// wide in the AVX-512 clone, so the pass costs about a copy.
template <UnaryOp kOp>
NABLA_VECTOR_CLONES_TEMPLATE void round_loop(const float* in, float* o, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) o[i] = kernels::unary<kOp>(in[i], 0.0f, 0.0f);
}

void unary_cpu(UnaryOp op, const Tensor& x, const Tensor& out, float p0, float p1) {
  const float* in = x.data<float>();
  float* o = out.data<float>();
  kernels::visit_unary(op, [&]<UnaryOp kOp>() {
    parallel_for(out.numel(), kParallelGrain, [&](int64_t b, int64_t e) {
      if constexpr (kOp == UnaryOp::RoundBf16 || kOp == UnaryOp::RoundFp16)
        round_loop<kOp>(in, o, b, e);
      else
        for (int64_t i = b; i < e; ++i) o[i] = kernels::unary<kOp>(in[i], p0, p1);
    });
  });
}

void binary_cpu(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, float p,
                float q) {
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* po = out.data<float>();
  StridedLoop<3> loop(out.shape(), {&a.strides(), &b.strides(), &out.strides()});
  kernels::visit_binary(op, [&]<BinaryOp kOp>() {
    loop.run([&](auto off, int64_t n, auto st) {
      const float* ra = pa + off[0];
      const float* rb = pb + off[1];
      float* ro = po + off[2];
      if (st[0] == 1 && st[1] == 1) {
        for (int64_t i = 0; i < n; ++i) ro[i] = kernels::binary<kOp>(ra[i], rb[i], p, q);
      } else if (st[0] == 1 && st[1] == 0) {
        const float vb = rb[0];
        for (int64_t i = 0; i < n; ++i) ro[i] = kernels::binary<kOp>(ra[i], vb, p, q);
      } else if (st[0] == 0 && st[1] == 1) {
        const float va = ra[0];
        for (int64_t i = 0; i < n; ++i) ro[i] = kernels::binary<kOp>(va, rb[i], p, q);
      } else {
        for (int64_t i = 0; i < n; ++i)
          ro[i] = kernels::binary<kOp>(ra[i * st[0]], rb[i * st[1]], p, q);
      }
    });
  });
}

void where_cpu(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  const float* pc = cond.data<float>();
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* po = out.data<float>();
  StridedLoop<4> loop(out.shape(), {&cond.strides(), &a.strides(), &b.strides(), &out.strides()});
  loop.run([&](auto off, int64_t n, auto st) {
    for (int64_t i = 0; i < n; ++i)
      po[off[3] + i * st[3]] =
          pc[off[0] + i * st[0]] != 0.0f ? pa[off[1] + i * st[1]] : pb[off[2] + i * st[2]];
  });
}

void rand_uniform_cpu(const Tensor& out, uint64_t seed, uint64_t offset) {
  float* o = out.data<float>();
  parallel_for(out.numel(), 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = random::philox_uniform(seed, offset, i);
  });
}

void rand_normal_cpu(const Tensor& out, uint64_t seed, uint64_t offset) {
  float* o = out.data<float>();
  parallel_for(out.numel(), 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = random::philox_normal(seed, offset, i);
  });
}

}  // namespace
}  // namespace nabla::cpu

namespace nabla::backend {
NABLA_REGISTER(unary_stub, cpu, cpu::unary_cpu)
NABLA_REGISTER(binary_stub, cpu, cpu::binary_cpu)
NABLA_REGISTER(where_stub, cpu, cpu::where_cpu)
NABLA_REGISTER(rand_uniform_stub, cpu, cpu::rand_uniform_cpu)
NABLA_REGISTER(rand_normal_stub, cpu, cpu::rand_normal_cpu)
}  // namespace nabla::backend
