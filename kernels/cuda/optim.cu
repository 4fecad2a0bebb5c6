// CUDA optimizer kernels: each rule from kernels/math/update_rules.h as one grid-stride kernel
// over a parameter group's flat range (float4 loads when every buffer is 16-byte aligned, which
// the arena's 64-byte alignment of each group guarantees), and a sum of squares. Reductions
// (SWATS's dot products, the sum of squares) write one partial per block over a fixed grid and
// are summed on the host in block order, so they are deterministic.
#include <type_traits>
#include <vector>

#include "backend/memory.h"
#include "backend/optim.h"
#include "kernels/cuda/block_reduce.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/runtime.h"

namespace nabla::cuda_detail {
namespace {

using backend::UpdateBuffers;
using backend::UpdateCall;
namespace rules = kernels::optim;

constexpr unsigned kReduceBlocks = 1024;  // fixed grid for reductions (deterministic partials)

struct DevicePtrs {
  float* p;
  const float* g;
  float* s0;
  float* s1;
  float* s2;
};

template <typename Rule>
__device__ __forceinline__ void update_one(const typename Rule::Scalars& s, const DevicePtrs& b,
                                           long long i, rules::Dots& dots) {
  float st[rules::kMaxSlots];
  if constexpr (Rule::uses(0)) st[0] = b.s0[i];
  if constexpr (Rule::uses(1)) st[1] = b.s1[i];
  if constexpr (Rule::uses(2)) st[2] = b.s2[i];
  float p = b.p[i];
  Rule::update(s, p, b.g[i], st, dots);
  b.p[i] = p;
  if constexpr (Rule::uses(0)) b.s0[i] = st[0];
  if constexpr (Rule::uses(1)) b.s1[i] = st[1];
  if constexpr (Rule::uses(2)) b.s2[i] = st[2];
}

// Loads component c of a float4 by index (registers, no local memory after unrolling).
__device__ __forceinline__ float& lane(float4& v, int c) {
  return c == 0 ? v.x : c == 1 ? v.y : c == 2 ? v.z : v.w;
}

template <typename Rule>
__device__ __forceinline__ void update_four(const typename Rule::Scalars& s, const DevicePtrs& b,
                                            long long q, rules::Dots& dots) {
  float4 p = reinterpret_cast<const float4*>(b.p)[q];
  float4 g = reinterpret_cast<const float4*>(b.g)[q];
  float4 st[rules::kMaxSlots];
  if constexpr (Rule::uses(0)) st[0] = reinterpret_cast<const float4*>(b.s0)[q];
  if constexpr (Rule::uses(1)) st[1] = reinterpret_cast<const float4*>(b.s1)[q];
  if constexpr (Rule::uses(2)) st[2] = reinterpret_cast<const float4*>(b.s2)[q];
#pragma unroll
  for (int c = 0; c < 4; ++c) {
    float e[rules::kMaxSlots];
#pragma unroll
    for (int k = 0; k < rules::kMaxSlots; ++k)
      if (Rule::uses(k)) e[k] = lane(st[k], c);
    Rule::update(s, lane(p, c), lane(g, c), e, dots);
#pragma unroll
    for (int k = 0; k < rules::kMaxSlots; ++k)
      if (Rule::uses(k)) lane(st[k], c) = e[k];
  }
  reinterpret_cast<float4*>(b.p)[q] = p;
  if constexpr (Rule::uses(0)) reinterpret_cast<float4*>(b.s0)[q] = st[0];
  if constexpr (Rule::uses(1)) reinterpret_cast<float4*>(b.s1)[q] = st[1];
  if constexpr (Rule::uses(2)) reinterpret_cast<float4*>(b.s2)[q] = st[2];
}

// Sums a pair of doubles over the block; thread 0 writes it to out[2 * blockIdx.x].
__device__ void block_sum_to(double a, double b, double* out) {
  a = block_sum(a);
  b = block_sum(b);
  if (threadIdx.x == 0) {
    out[2 * blockIdx.x] = a;
    out[2 * blockIdx.x + 1] = b;
  }
}

template <typename Rule>
__global__ void update_kernel(typename Rule::Scalars s, DevicePtrs b, long long n, bool vec4,
                              double* partials) {
  rules::Dots dots;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  const long long first = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  long long tail = 0;
  if (vec4) {
    const long long quads = n / 4;
    for (long long q = first; q < quads; q += stride) update_four<Rule>(s, b, q, dots);
    tail = quads * 4;
  }
  for (long long i = tail + first; i < n; i += stride) update_one<Rule>(s, b, i, dots);
  if constexpr (Rule::kReduces) block_sum_to(dots.pp, dots.pg, partials);
}

__global__ void sum_squares_kernel(const float* x, long long n, double* partials) {
  double acc = 0.0;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride)
    acc += static_cast<double>(x[i]) * x[i];
  block_sum_to(acc, 0.0, partials);
}

// ---------------------------------------------------------------- launchers

// Device scratch for per-block partials, from the caching allocator.
class Partials {
 public:
  explicit Partials(unsigned blocks) : nbytes_(2 * blocks * sizeof(double)) {
    NABLA_CUDA_CHECK(cudaGetDevice(&device_));
    ptr_ = static_cast<double*>(backend::allocate_stub(Device::cuda(device_))(nbytes_, device_));
  }
  ~Partials() { backend::deallocate_stub(Device::cuda(device_))(ptr_, nbytes_, device_); }
  Partials(const Partials&) = delete;
  Partials& operator=(const Partials&) = delete;
  double* get() const { return ptr_; }
  // Copies the partials back and sums them in block order.
  std::pair<double, double> sum() const {
    std::vector<double> host(nbytes_ / sizeof(double));
    NABLA_CUDA_CHECK(cudaMemcpyAsync(host.data(), ptr_, nbytes_, cudaMemcpyDeviceToHost, stream()));
    NABLA_CUDA_CHECK(cudaStreamSynchronize(stream()));
    double a = 0.0, b = 0.0;
    for (size_t i = 0; i < host.size(); i += 2) {
      a += host[i];
      b += host[i + 1];
    }
    return {a, b};
  }

 private:
  std::size_t nbytes_;
  int device_ = 0;
  double* ptr_ = nullptr;
};

bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

template <typename Rule>
rules::Dots launch_update(const typename Rule::Scalars& s, const backend::UpdateBuffers& b) {
  const DevicePtrs ptrs{b.params, b.grads, b.slots[0], b.slots[1], b.slots[2]};
  bool vec4 = aligned16(ptrs.p) && aligned16(ptrs.g);
  for (int k = 0; k < rules::kMaxSlots; ++k)
    if (Rule::uses(k)) vec4 = vec4 && aligned16(b.slots[k]);
  const long long work = vec4 ? (b.n + 3) / 4 : b.n;
  rules::Dots dots;
  if constexpr (Rule::kReduces) {
    Partials partials(kReduceBlocks);
    update_kernel<Rule>
        <<<kReduceBlocks, kBlockSize, 0, stream()>>>(s, ptrs, b.n, vec4, partials.get());
    NABLA_CUDA_CHECK_LAUNCH();
    const auto [pp, pg] = partials.sum();
    dots.pp = pp;
    dots.pg = pg;
  } else {
    update_kernel<Rule>
        <<<linear_blocks(work), kBlockSize, 0, stream()>>>(s, ptrs, b.n, vec4, nullptr);
    NABLA_CUDA_CHECK_LAUNCH();
  }
  return dots;
}

rules::Dots optim_update_cuda(const backend::UpdateCall& call,
                              const backend::UpdateBuffers& buffers) {
  return std::visit(
      [&](const auto& c) {
        using Rule = typename std::decay_t<decltype(c)>::rule;
        return launch_update<Rule>(c.scalars, buffers);
      },
      call);
}

double sum_squares_cuda(const float* x, int64_t n) {
  Partials partials(kReduceBlocks);
  sum_squares_kernel<<<kReduceBlocks, kBlockSize, 0, stream()>>>(x, n, partials.get());
  NABLA_CUDA_CHECK_LAUNCH();
  return partials.sum().first;
}

}  // namespace

NABLA_REGISTER(backend::optim_update_stub, cuda, optim_update_cuda);
NABLA_REGISTER(backend::sum_squares_stub, cuda, sum_squares_cuda);

}  // namespace nabla::cuda_detail
