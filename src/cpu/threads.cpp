// The CPU backend's threads: a fixed pool that runs one parallel loop at a time, and the thread
// count. OpenBLAS always runs single-threaded (cpu/gemm.cpp splits large products across the
// pool), so that two thread pools never compete for the cores.
//
// Why not OpenMP: libgomp's idle threads spin for a long while after each parallel region, and
// its wait policy is read from the environment at load time only. On a machine shared with other
// processes, a spinning thread holds a core that the next region's worker, or an OpenBLAS thread,
// needs; a training step of small layers became up to 100 times slower. The pool's workers spin
// briefly (some tens of microseconds), then sleep on a futex (std::atomic::wait).
#include "nabla/threads.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "cpu/loops.h"
#include "nabla/error.h"

namespace nabla {
namespace cpu {
namespace {

thread_local int t_index = 0;
thread_local bool t_in_parallel = false;

// Polls before sleeping: a loop that follows soon after the previous one finds its workers
// awake. About 20 to 100 microseconds.
constexpr int kSpins = 500;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// OMP_NUM_THREADS when set (as before the pool replaced OpenMP), else one per core.
int default_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return n;
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

class Pool {
 public:
  Pool() : threads_(default_threads()) {}

  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void set_threads(int threads) {
    std::lock_guard<std::mutex> lock(run_mutex_);
    threads_.store(threads, std::memory_order_relaxed);
  }

  void run(ParallelJob job, const void* ctx) {
    std::lock_guard<std::mutex> lock(run_mutex_);
    const int threads = threads_.load(std::memory_order_relaxed);
    while (static_cast<int>(workers_.size()) + 1 < threads) start_worker();
    job_ = job, ctx_ = ctx;
    active_.store(threads, std::memory_order_relaxed);
    error_ = nullptr;
    pending_.store(threads - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    t_in_parallel = true;
    try {
      job(ctx, 0, threads);
    } catch (...) {
      std::lock_guard<std::mutex> error_lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    t_in_parallel = false;
    // Every worker must be done with ctx (the caller's stack) before returning.
    int left = 0;
    for (int spin = 0; spin < kSpins && (left = pending_.load(std::memory_order_acquire)); ++spin)
      cpu_relax();
    while ((left = pending_.load(std::memory_order_acquire)) != 0) pending_.wait(left);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void start_worker() {
    const int index = static_cast<int>(workers_.size()) + 1;
    const unsigned seen = generation_.load(std::memory_order_acquire);
    // Never joined: the pool lives until the process ends.
    workers_.emplace_back([this, index, seen] { work(index, seen); }).detach();
  }

  void work(int index, unsigned seen) {
    t_index = index;
    t_in_parallel = true;
    while (true) {
      unsigned g = seen;
      for (int spin = 0; spin < kSpins && (g = generation_.load(std::memory_order_acquire)) == seen;
           ++spin)
        cpu_relax();
      while ((g = generation_.load(std::memory_order_acquire)) == seen) generation_.wait(seen);
      seen = g;
      // Workers beyond the loop's thread count (after set_num_threads lowered it) sit it out.
      const int active = active_.load(std::memory_order_relaxed);
      if (index >= active) continue;
      try {
        job_(ctx_, index, active);
      } catch (...) {
        std::lock_guard<std::mutex> error_lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
  }

  std::atomic<int> threads_;
  std::mutex run_mutex_;  // one loop at a time, whichever user thread starts it
  std::vector<std::thread> workers_;
  // Published by the release increment of generation_, read after its acquire load.
  ParallelJob job_ = nullptr;
  const void* ctx_ = nullptr;
  std::atomic<int> active_{1};
  std::atomic<unsigned> generation_{0};
  std::atomic<int> pending_{0};
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

Pool& pool() {
  static auto* p = new Pool();  // never destroyed: workers may still be parked at exit
  return *p;
}

// At load, before any GEMM: OpenBLAS otherwise starts with one thread per core.
[[maybe_unused]] const bool g_openblas_single_threaded = [] {
  openblas_set_num_threads(1);
  return true;
}();

}  // namespace

int pool_threads() {
  return pool().threads();
}
int thread_index() {
  return t_index;
}
bool in_parallel() {
  return t_in_parallel;
}
void run_parallel(ParallelJob job, const void* ctx) {
  pool().run(job, ctx);
}

}  // namespace cpu

void set_num_threads(int threads) {
  NABLA_CHECK(threads >= 1, "set_num_threads: expected at least 1 thread, got {}", threads);
  cpu::pool().set_threads(threads);
  openblas_set_num_threads(1);
}

int get_num_threads() {
  return cpu::pool_threads();
}

}  // namespace nabla
