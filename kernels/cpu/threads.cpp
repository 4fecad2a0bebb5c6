// The CPU backend's threads: a fixed pool that runs one parallel loop at a time, and the thread
// count. OpenBLAS always runs single-threaded (cpu/gemm.cpp splits large products across the
// pool), so that two thread pools never compete for the cores.
//
// Why not OpenMP: libgomp's idle threads spin for a long while after each parallel region, and
// its wait policy is read from the environment at load time only. On a machine shared with other
// processes, a spinning thread holds a core that the next region's worker, or an OpenBLAS thread,
// needs; a training step of small layers became up to 100 times slower. The pool's workers spin
// briefly (200 microseconds), then sleep on a futex (std::atomic::wait); a worker that another
// process keeps off its core delays nobody, since the caller runs the chunks not yet claimed.
#include "nabla/threads.h"

#include <cblas.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/cpu/loops.h"
#include "nabla/error.h"

namespace nabla {
namespace cpu {
namespace {

thread_local int t_index = 0;
thread_local bool t_in_parallel = false;

// How long a thread polls before it sleeps. A training step of small layers runs a parallel loop
// every few tens of microseconds; within this window the next loop finds the workers awake,
// while waking a sleeping one takes about as long as such a loop.
constexpr std::chrono::microseconds kSpin{200};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls done() for up to kSpin; true once it holds. A pause lasts from about 10 to 150 cycles
// depending on the processor, so the window is measured in time, not in pauses.
template <typename Done>
bool spin_until(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  do {
    for (int i = 0; i < 16; ++i) {
      if (done()) return true;
      cpu_relax();
    }
  } while (std::chrono::steady_clock::now() < deadline);
  return done();
}

// OMP_NUM_THREADS when set (as before the pool replaced OpenMP), else one per core.
int default_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return n;
  }
  return num_cores();
}

// A loop is split into `threads` static chunks; any thread may run any chunk. Chunks are claimed
// from one atomic word (generation, chunk count, next chunk), so the caller runs the chunks of a
// worker that has not woken yet (the core may be busy with another process) instead of waiting
// for it. Results do not depend on who runs a chunk.
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
    error_ = nullptr;
    pending_.store(threads, std::memory_order_relaxed);
    const uint32_t g = ++loops_;
    claim_.store(uint64_t{g} << 32 | uint64_t(threads) << 16, std::memory_order_release);
    generation_.store(g, std::memory_order_release);
    generation_.notify_all();
    run_chunks(g);
    // Every chunk must be done with ctx (the caller's stack) before returning.
    spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; });
    for (int left; (left = pending_.load(std::memory_order_acquire)) != 0;) pending_.wait(left);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void start_worker() {
    const uint32_t seen = generation_.load(std::memory_order_acquire);
    // Never joined: the pool lives until the process ends.
    workers_.emplace_back([this, seen] { work(seen); }).detach();
  }

  void work(uint32_t seen) {
    while (true) {
      uint32_t g = seen;
      spin_until([&] { return (g = generation_.load(std::memory_order_acquire)) != seen; });
      while ((g = generation_.load(std::memory_order_acquire)) == seen) generation_.wait(seen);
      seen = g;
      run_chunks(g);
    }
  }

  // Claims and runs chunks of loop g until none is left (or a later loop has started).
  void run_chunks(uint32_t g) {
    uint64_t c = claim_.load(std::memory_order_acquire);
    while (static_cast<uint32_t>(c >> 32) == g) {
      const int chunks = static_cast<int>(c >> 16 & 0xffff), t = static_cast<int>(c & 0xffff);
      if (t >= chunks) return;
      if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel,
                                        std::memory_order_acquire))
        continue;
      // job_ and ctx_ stay those of loop g until its last chunk, this one included, is done.
      t_index = t;
      t_in_parallel = true;
      try {
        job_(ctx_, t, chunks);
      } catch (...) {
        std::lock_guard<std::mutex> error_lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      t_in_parallel = false;
      t_index = 0;
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
      c = claim_.load(std::memory_order_acquire);
    }
  }

  std::atomic<int> threads_;
  std::mutex run_mutex_;  // one loop at a time, whichever user thread starts it
  std::vector<std::thread> workers_;
  uint32_t loops_ = 0;  // loops started, under run_mutex_
  ParallelJob job_ = nullptr;
  const void* ctx_ = nullptr;
  std::atomic<uint32_t> generation_{0};  // wakes the workers
  std::atomic<uint64_t> claim_{0};       // generation << 32 | chunks << 16 | next chunk
  std::atomic<int> pending_{0};          // chunks not yet done
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

int num_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace nabla
