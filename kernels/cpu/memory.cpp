// CPU memory: a caching allocator (freed blocks are kept by size and handed out again, so a
// training loop allocates nothing from the system in steady state), copies and fills.

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "backend/layout.h"
#include "backend/memory.h"
#include "kernels/cpu/loops.h"

namespace nabla::cpu {
namespace {

constexpr std::size_t kAlignment = 64;
constexpr std::size_t kHugePage = std::size_t{2} << 20, kHugeFrom = std::size_t{4} << 20;

class CachingAllocator {
 public:
  void* allocate(std::size_t nbytes) {
    const std::size_t size = round_up(nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        return p;
      }
    }
    const bool huge = size >= kHugeFrom;
    void* p = std::aligned_alloc(huge ? kHugePage : kAlignment, size);
    NABLA_CHECK(p != nullptr, "out of host memory allocating {} bytes", nbytes);
    // Advice only: where transparent huge pages are off, the block keeps 4 KiB pages.
    if (huge) madvise(p, size, MADV_HUGEPAGE);
    return p;
  }
  void deallocate(void* p, std::size_t nbytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_[round_up(nbytes)].push_back(p);
  }

 private:
  // aligned_alloc wants a multiple of the alignment.
  static std::size_t round_up(std::size_t n) {
    const std::size_t unit = n >= kHugeFrom ? kHugePage : kAlignment;
    return n == 0 ? kAlignment : (n + unit - 1) / unit * unit;
  }
  std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;
};

CachingAllocator& allocator() {
  static auto* a = new CachingAllocator();  // never destroyed: storages may outlive statics
  return *a;
}

void* allocate_cpu(std::size_t nbytes, int) {
  return backend::allocate_host(nbytes);
}
void deallocate_cpu(void* p, std::size_t nbytes, int) {
  backend::deallocate_host(p, nbytes);
}
void copy_host(void* dst, const void* src, std::size_t nbytes) {
  if (nbytes) std::memcpy(dst, src, nbytes);
}

template <typename Src, typename Dst>
void copy_typed(const Tensor& src, const Tensor& dst) {
  const Src* s = static_cast<const Src*>(src.raw_data());
  Dst* d = static_cast<Dst*>(dst.raw_data());
  StridedLoop<2> loop(src.shape(), {&src.strides(), &dst.strides()});
  loop.run([&](auto off, int64_t n, auto st) {
    const Src* sp = s + off[0];
    Dst* dp = d + off[1];
    if (st[0] == 1 && st[1] == 1) {
      for (int64_t i = 0; i < n; ++i) dp[i] = static_cast<Dst>(sp[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) dp[i * st[1]] = static_cast<Dst>(sp[i * st[0]]);
    }
  });
}

void copy_strided_cpu(const Tensor& src, const Tensor& dst) {
  const bool sf = src.dtype() == DType::Float32, df = dst.dtype() == DType::Float32;
  if (sf && df)
    copy_typed<float, float>(src, dst);
  else if (sf)
    copy_typed<float, int64_t>(src, dst);
  else if (df)
    copy_typed<int64_t, float>(src, dst);
  else
    copy_typed<int64_t, int64_t>(src, dst);
}

template <typename T>
void fill_typed(T* p, int64_t n, T v) {
  parallel_for(n, kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) p[i] = v;
  });
}

void fill_cpu(const Tensor& out, double value) {
  if (out.dtype() == DType::Float32)
    fill_typed(out.data<float>(), out.numel(), static_cast<float>(value));
  else
    fill_typed(out.data<int64_t>(), out.numel(), static_cast<int64_t>(value));
}

}  // namespace

}  // namespace nabla::cpu

namespace nabla::backend {

void* allocate_host(std::size_t nbytes) {
  NABLA_CHECK(nbytes <= kMaxAllocationBytes,
              "cannot allocate {} bytes of host memory: more than any machine's memory", nbytes);
  return cpu::allocator().allocate(nbytes);
}
void deallocate_host(void* p, std::size_t nbytes) {
  cpu::allocator().deallocate(p, nbytes);
}

NABLA_REGISTER(allocate_stub, cpu, cpu::allocate_cpu)
NABLA_REGISTER(deallocate_stub, cpu, cpu::deallocate_cpu)
NABLA_REGISTER(copy_to_host_stub, cpu, cpu::copy_host)
NABLA_REGISTER(copy_from_host_stub, cpu, cpu::copy_host)
NABLA_REGISTER(copy_strided_stub, cpu, cpu::copy_strided_cpu)
NABLA_REGISTER(fill_stub, cpu, cpu::fill_cpu)

}  // namespace nabla::backend
