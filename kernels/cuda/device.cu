// CUDA device plumbing: device queries, a caching allocator (no cudaMalloc/cudaFree per op in
// steady state), host<->device copies on the device's stream, synchronisation, the math
// switches, and CUDA graph capture with a memory pool private to each graph.
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "backend/memory.h"
#include "backend/runtime.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/runtime.h"

namespace nabla::cuda_detail {

cudaStream_t stream() {
  return cudaStreamPerThread;
}

bool capturing() {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  NABLA_CUDA_CHECK(cudaStreamIsCapturing(stream(), &status));
  return status != cudaStreamCaptureStatusNone;
}

void check_not_capturing_random(const char* op) {
  NABLA_CHECK(!capturing(),
              "{}: random numbers cannot be drawn inside a captured CUDA graph (every replay "
              "would repeat them); train models with dropout without cuda_graph",
              op);
}

int current_device() {
  int device = 0;
  NABLA_CUDA_CHECK(cudaGetDevice(&device));
  return device;
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

// Blocks in exact size classes (512-byte steps), reused as soon as they are freed: every op of a
// thread runs on that thread's one stream, so a freed block's last use is queued before any new
// one. While a graph is captured, blocks go to and come from that graph's pool: its replays
// write them at any later time, so they must never serve eager tensors while the graph lives.
class CachingAllocator {
 public:
  struct Key {
    int device;
    std::size_t size;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const { return k.size * 31 + k.device; }
  };
  using FreeLists = std::unordered_map<Key, std::vector<void*>, KeyHash>;
  struct GraphPool {
    FreeLists free;
    std::vector<void*> blocks;  // every block the graph owns, free or in use
  };

  void* allocate(std::size_t nbytes, int device) {
    const Key key{device, round_up(nbytes)};
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (capture_pool_ != nullptr) {
        // The graph's own free blocks first, then eager ones, which become the graph's.
        for (FreeLists* lists : {&capture_pool_->free, &free_}) {
          auto& bucket = (*lists)[key];
          if (bucket.empty()) continue;
          void* p = bucket.back();
          bucket.pop_back();
          if (lists == &free_) own(p);
          return p;
        }
      } else if (auto& bucket = free_[key]; !bucket.empty()) {
        void* p = bucket.back();
        bucket.pop_back();
        return p;
      }
    }
    void* p = nullptr;  // on `device`: the dispatch made it current
    if (cudaMalloc(&p, key.size) != cudaSuccess) {
      (void)cudaGetLastError();
      NABLA_CHECK(!capturing(), "out of device memory while capturing a CUDA graph");
      release_cached();  // give cached blocks back and retry once
      NABLA_CUDA_CHECK(cudaMalloc(&p, key.size));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (capture_pool_ != nullptr) own(p);
    return p;
  }
  void deallocate(void* p, std::size_t nbytes, int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    const Key key{device, round_up(nbytes)};
    auto it = graph_owned_.find(p);
    (it != graph_owned_.end() ? it->second->free : free_)[key].push_back(p);
  }

  void begin_capture(GraphPool* pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    capture_pool_ = pool;
  }
  void end_capture() {
    std::lock_guard<std::mutex> lock(mutex_);
    capture_pool_ = nullptr;
  }
  // The graph is gone: its free blocks serve eager tensors again, and so do its blocks still in
  // use once they are freed.
  void release(GraphPool* pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (void* p : pool->blocks) graph_owned_.erase(p);
    for (auto& [key, blocks] : pool->free)
      free_[key].insert(free_[key].end(), blocks.begin(), blocks.end());
  }

 private:
  static std::size_t round_up(std::size_t n) { return n < 512 ? 512 : (n + 511) / 512 * 512; }
  void own(void* p) {  // mutex_ held
    graph_owned_[p] = capture_pool_;
    capture_pool_->blocks.push_back(p);
  }
  void release_cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    cudaDeviceSynchronize();
    for (auto& [key, blocks] : free_)
      for (void* p : blocks) cudaFree(p);
    free_.clear();
  }
  std::mutex mutex_;
  FreeLists free_;
  GraphPool* capture_pool_ = nullptr;
  std::unordered_map<void*, GraphPool*> graph_owned_;
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

void memory_info_cuda(int, std::size_t* free, std::size_t* total) {
  NABLA_CUDA_CHECK(cudaMemGetInfo(free, total));  // of the device the dispatch made current
}

int exchange_device_cuda(int index) {
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver or no device: the call itself reports it
    return -1;
  }
  if (previous == index) return previous;
  if (cudaSetDevice(index) != cudaSuccess) {
    (void)cudaGetLastError();
    NABLA_FAIL("cuda:{} is not a device of this machine, which has {} CUDA device(s)", index,
               device_count_cuda());
  }
  return previous;
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

// ---------------------------------------------------------------- graphs

struct Graph {
  cudaGraphExec_t exec = nullptr;
  CachingAllocator::GraphPool pool;
};

// The graph being captured by this process (one at a time).
std::unique_ptr<Graph> g_capture;

void graph_begin_capture_cuda() {
  NABLA_CHECK(g_capture == nullptr, "a CUDA graph is already being captured");
  g_capture = std::make_unique<Graph>();
  allocator().begin_capture(&g_capture->pool);
  // Relaxed: the allocator may call cudaMalloc while capturing. Whatever would wait for the
  // device (a copy to the host, a synchronisation) fails the capture instead.
  const cudaError_t status = cudaStreamBeginCapture(stream(), cudaStreamCaptureModeRelaxed);
  if (status != cudaSuccess) {
    allocator().end_capture();
    allocator().release(&g_capture->pool);
    g_capture.reset();
    NABLA_CUDA_CHECK(status);
  }
}

void* graph_end_capture_cuda(bool keep) {
  NABLA_CHECK(g_capture != nullptr, "no CUDA graph is being captured");
  std::unique_ptr<Graph> graph = std::move(g_capture);
  cudaGraph_t captured = nullptr;
  cudaError_t status = cudaStreamEndCapture(stream(), &captured);
  allocator().end_capture();
  if (status == cudaSuccess && keep) status = cudaGraphInstantiate(&graph->exec, captured, 0ULL);
  if (captured != nullptr) (void)cudaGraphDestroy(captured);
  if (status != cudaSuccess || !keep) {
    (void)cudaGetLastError();  // a failed capture leaves the device usable
    allocator().release(&graph->pool);
    if (keep) NABLA_CUDA_CHECK(status);
    return nullptr;
  }
  return graph.release();
}

void graph_launch_cuda(void* graph) {
  NABLA_CUDA_CHECK(cudaGraphLaunch(static_cast<Graph*>(graph)->exec, stream()));
}

void graph_destroy_cuda(void* handle) {
  auto* graph = static_cast<Graph*>(handle);
  // Replays still queued read and write the pool's blocks.
  (void)cudaStreamSynchronize(stream());
  (void)cudaGraphExecDestroy(graph->exec);
  allocator().release(&graph->pool);
  delete graph;
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::backend {
namespace {
const bool registered_device_exchange =
    (exchange_cuda_device = cuda_detail::exchange_device_cuda, true);
}
NABLA_REGISTER(device_count_stub, cuda, cuda_detail::device_count_cuda)
NABLA_REGISTER(memory_info_stub, cuda, cuda_detail::memory_info_cuda)
NABLA_REGISTER(synchronize_stub, cuda, cuda_detail::synchronize_cuda)
NABLA_REGISTER(allocate_stub, cuda, cuda_detail::allocate_cuda)
NABLA_REGISTER(deallocate_stub, cuda, cuda_detail::deallocate_cuda)
NABLA_REGISTER(copy_to_host_stub, cuda, cuda_detail::copy_to_host_cuda)
NABLA_REGISTER(copy_from_host_stub, cuda, cuda_detail::copy_from_host_cuda)
NABLA_REGISTER(set_allow_tf32_stub, cuda, cuda_detail::set_allow_tf32_cuda)
NABLA_REGISTER(set_deterministic_stub, cuda, cuda_detail::set_deterministic_cuda)
NABLA_REGISTER(graph_begin_capture_stub, cuda, cuda_detail::graph_begin_capture_cuda)
NABLA_REGISTER(graph_end_capture_stub, cuda, cuda_detail::graph_end_capture_cuda)
NABLA_REGISTER(graph_launch_stub, cuda, cuda_detail::graph_launch_cuda)
NABLA_REGISTER(graph_destroy_stub, cuda, cuda_detail::graph_destroy_cuda)
}  // namespace nabla::backend
