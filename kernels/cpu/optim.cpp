// CPU optimizer loops: each rule from kernels/math/update_rules.h in one vectorisable pass over
// the flat buffers, split statically over the threads; sums are the same bit for bit on any
// thread count.
// Built with -fno-math-errno (see CMakeLists.txt): the square roots in the rules never see a
// negative argument, and without errno handling (a branch to the library call) the loops
// vectorise. And with -ffp-contract=off: the AVX-512 clones of the loops (NABLA_VECTOR_CLONES)
// then round as the baseline does.

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/optim.h"
#include "kernels/cpu/loops.h"

namespace nabla::cpu {
namespace {

using backend::UpdateBuffers;
using backend::UpdateCall;
namespace rules = kernels::optim;

// The rule over [begin, end) of the buffers.
template <typename Rule>
NABLA_VECTOR_CLONES_TEMPLATE rules::Dots update_range(const typename Rule::Scalars& s,
                                                      const backend::UpdateBuffers& b,
                                                      int64_t begin, int64_t end) {
  float* __restrict p = b.params;
  const float* __restrict g = b.grads;
  float* __restrict s0 = b.slots[0];
  float* __restrict s1 = b.slots[1];
  float* __restrict s2 = b.slots[2];
  rules::Dots dots;
  for (int64_t i = begin; i < end; ++i) {
    float st[rules::kMaxSlots];
    if constexpr (Rule::uses(0)) st[0] = s0[i];
    if constexpr (Rule::uses(1)) st[1] = s1[i];
    if constexpr (Rule::uses(2)) st[2] = s2[i];
    Rule::update(s, p[i], g[i], st, dots);
    if constexpr (Rule::uses(0)) s0[i] = st[0];
    if constexpr (Rule::uses(1)) s1[i] = st[1];
    if constexpr (Rule::uses(2)) s2[i] = st[2];
  }
  return dots;
}

// Reductions (SWATS's dot products, the sum of squares) are computed in blocks of this many
// elements and the blocks' sums added in block order, whichever thread computed them: the result
// is the same bit for bit on any number of threads.
constexpr int64_t kReductionBlock = 4096;

template <typename Rule>
rules::Dots update_cpu(const typename Rule::Scalars& s, const backend::UpdateBuffers& b) {
  if constexpr (!Rule::kReduces) {
    parallel_for(b.n, kParallelGrain,
                 [&](int64_t begin, int64_t end) { update_range<Rule>(s, b, begin, end); });
    return {};
  } else {
    const int64_t blocks = (b.n + kReductionBlock - 1) / kReductionBlock;
    thread_local std::vector<rules::Dots> block_dots;  // grows once
    block_dots.resize(blocks);
    rules::Dots* dots = block_dots.data();
    parallel_for(blocks, kParallelGrain / kReductionBlock, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k)
        dots[k] =
            update_range<Rule>(s, b, k * kReductionBlock, std::min(b.n, (k + 1) * kReductionBlock));
    });
    rules::Dots total;
    for (int64_t k = 0; k < blocks; ++k) {
      total.pp += dots[k].pp;
      total.pg += dots[k].pg;
    }
    return total;
  }
}

rules::Dots optim_update_cpu(const backend::UpdateCall& call,
                             const backend::UpdateBuffers& buffers) {
  return std::visit(
      [&](const auto& c) {
        using Rule = typename std::decay_t<decltype(c)>::rule;
        return update_cpu<Rule>(c.scalars, buffers);
      },
      call);
}

// sum(x^2) over one block of at most kReductionBlock elements: squares summed in 64 float lanes,
// then the lanes added in double. Vectorises (a double accumulation does not, without
// reassociation), and a block loses less than 1e-5 relative. 64 lanes are four independent
// AVX-512 accumulators: with one, each vector add waits for the previous one.
NABLA_VECTOR_CLONES double sum_squares_block(const float* x, int64_t n) {
  constexpr int kLanes = 64;
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) lanes[j] += x[i + j] * x[i + j];
  double total = 0.0;
  for (float l : lanes) total += l;
  for (; i < n; ++i) total += static_cast<double>(x[i]) * x[i];
  return total;
}

double sum_squares_cpu(const float* x, int64_t n) {
  const int64_t blocks = (n + kReductionBlock - 1) / kReductionBlock;
  thread_local std::vector<double> block_sums;  // grows once, then no allocation per call
  block_sums.resize(blocks);
  double* sums = block_sums.data();
  parallel_for(blocks, kParallelGrain / kReductionBlock, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t first = b * kReductionBlock;
      sums[b] = sum_squares_block(x + first, std::min(kReductionBlock, n - first));
    }
  });
  double total = 0.0;
  for (int64_t b = 0; b < blocks; ++b) total += sums[b];
  if (std::isfinite(total)) return total;
  // A float square overflows from |x| > 1.8e19: recount in double, so that only an inf or nan
  // in x makes the result non-finite.
  total = 0.0;
  for (int64_t i = 0; i < n; ++i) total += static_cast<double>(x[i]) * x[i];
  return total;
}

}  // namespace

NABLA_REGISTER(backend::optim_update_stub, cpu, optim_update_cpu);
NABLA_REGISTER(backend::sum_squares_stub, cpu, sum_squares_cpu);

}  // namespace nabla::cpu
