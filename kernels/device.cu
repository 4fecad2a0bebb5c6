// CUDA device plumbing: device queries, a caching allocator (no cudaMalloc/cudaFree per op in
// steady state), host<->device copies on the device's stream, synchronisation, and the math
// switches.
#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kernels/common/cuda_check.h"
#include "kernels/common/runtime.h"
#include "ops/core_stubs.h"

namespace nabla::cuda_detail {

cudaStream_t stream() {
  return cudaStreamPerThread;
}

namespace {
std::atomic<bool> g_allow_tf32{false};
std::atomic<bool> g_deterministic{false};
}  // namespace

bool allow_tf32() {
  return g_allow_tf32.load();
}
bool deterministic() {
  return g_deterministic.load();
}

namespace {

void set_allow_tf32_cuda(bool on) {
  g_allow_tf32 = on;
}
void set_deterministic_cuda(bool on) {
  g_deterministic = on;
}

class CachingAllocator {
 public:
  void* allocate(std::size_t nbytes, int device) {
    const std::size_t size = round_up(nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto& bucket = free_[{device, size}];
      if (!bucket.empty()) {
        void* p = bucket.back();
        bucket.pop_back();
        return p;
      }
    }
    NABLA_CUDA_CHECK(cudaSetDevice(device));
    void* p = nullptr;
    if (cudaMalloc(&p, size) != cudaSuccess) {
      (void)cudaGetLastError();
      release_cached();  // give cached blocks back and retry once
      NABLA_CUDA_CHECK(cudaMalloc(&p, size));
    }
    return p;
  }
  void deallocate(void* p, std::size_t nbytes, int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_[{device, round_up(nbytes)}].push_back(p);
  }

 private:
  struct Key {
    int device;
    std::size_t size;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const { return k.size * 31 + k.device; }
  };
  static std::size_t round_up(std::size_t n) { return n < 512 ? 512 : (n + 511) / 512 * 512; }
  void release_cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    cudaDeviceSynchronize();
    for (auto& [key, blocks] : free_)
      for (void* p : blocks) cudaFree(p);
    free_.clear();
  }
  std::mutex mutex_;
  std::unordered_map<Key, std::vector<void*>, KeyHash> free_;
};

CachingAllocator& allocator() {
  static auto* a = new CachingAllocator();  // never destroyed: the driver may be gone at exit
  return *a;
}

int device_count_cuda() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver or no device: not an error, just none
    return 0;
  }
  return n;
}

void memory_info_cuda(int device, std::size_t* free, std::size_t* total) {
  NABLA_CUDA_CHECK(cudaSetDevice(device));
  NABLA_CUDA_CHECK(cudaMemGetInfo(free, total));
}

void synchronize_cuda() {
  NABLA_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

void* allocate_cuda(std::size_t nbytes, int device) {
  return allocator().allocate(nbytes, device);
}
void deallocate_cuda(void* p, std::size_t nbytes, int device) {
  allocator().deallocate(p, nbytes, device);
}

void copy_to_host_cuda(void* dst, const void* src, std::size_t nbytes) {
  if (nbytes == 0) return;
  NABLA_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream()));
  NABLA_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

void copy_from_host_cuda(void* dst, const void* src, std::size_t nbytes) {
  if (nbytes == 0) return;
  NABLA_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, stream()));
  // The host buffer may be freed as soon as we return.
  NABLA_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::ops {
NABLA_REGISTER(device_count_stub, cuda, cuda_detail::device_count_cuda)
NABLA_REGISTER(memory_info_stub, cuda, cuda_detail::memory_info_cuda)
NABLA_REGISTER(synchronize_stub, cuda, cuda_detail::synchronize_cuda)
NABLA_REGISTER(allocate_stub, cuda, cuda_detail::allocate_cuda)
NABLA_REGISTER(deallocate_stub, cuda, cuda_detail::deallocate_cuda)
NABLA_REGISTER(copy_to_host_stub, cuda, cuda_detail::copy_to_host_cuda)
NABLA_REGISTER(copy_from_host_stub, cuda, cuda_detail::copy_from_host_cuda)
NABLA_REGISTER(set_allow_tf32_stub, cuda, cuda_detail::set_allow_tf32_cuda)
NABLA_REGISTER(set_deterministic_stub, cuda, cuda_detail::set_deterministic_cuda)
}  // namespace nabla::ops
