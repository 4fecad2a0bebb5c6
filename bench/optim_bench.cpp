// One optimizer step over 1M and 16M parameters on the CPU (SGD with momentum, Adam, RMSprop),
// against a STREAM triad (a = b + s c) over the same number of floats measured in the same run.
// An optimizer step is memory bound, so the figure of merit is bytes moved per second relative
// to the triad. Counters: bytes_per_elem (what the rule must read and write per parameter;
// Adam 28 B: reads p, g, m, v, writes p, m, v; triad 12 B), bytes_per_step, GB/s (mean over the
// benchmark loop), and from ten back-to-back rounds of one triad and one step: best_GB/s,
// triad_best_GB/s and ratio_to_triad. The non-finite check (skip_nonfinite, on by default)
// reads the gradients once more, 4 B/param that GB/s does not count; BM_Adam_NoCheck leaves the
// check out. The triad writes a without reading it (12 B counted, as STREAM does), while an
// optimizer updates in place, so a ratio above 1 is possible.
#include <benchmark/benchmark.h>

#include <barrier>
#include <chrono>
#include <cmath>
#include <functional>
#include <thread>
#include <vector>

#include "nabla/nabla.h"

using namespace nabla;

namespace {

// A fixed pool with a static split, as the library's loops: thread t takes chunk t.
class Pool {
 public:
  explicit Pool(int threads) : threads_(threads), start_(threads), done_(threads) {
    for (int t = 1; t < threads; ++t)
      workers_.emplace_back([this, t](std::stop_token stop) {
        while (true) {
          start_.arrive_and_wait();
          if (stop.stop_requested()) return;
          job_(t);
          done_.arrive_and_wait();
        }
      });
  }
  ~Pool() {
    for (auto& w : workers_) w.request_stop();
    start_.arrive_and_wait();
  }
  void run(const std::function<void(int)>& job) {
    job_ = job;
    start_.arrive_and_wait();
    job_(0);
    done_.arrive_and_wait();
  }
  int threads() const { return threads_; }

 private:
  int threads_;
  std::barrier<> start_, done_;
  std::function<void(int)> job_;
  std::vector<std::jthread> workers_;
};

// STREAM triad a = b + s c over n floats on the pool (12 B/element).
class Triad {
 public:
  explicit Triad(int64_t n) : n_(n), a_(n), b_(n, 1.0f), c_(n, 2.0f), pool_(get_num_threads()) {
    run();  // first touch
  }
  void run() {
    pool_.run([this](int t) {
      const int64_t chunk = (n_ + pool_.threads() - 1) / pool_.threads();
      const int64_t begin = t * chunk, end = std::min(n_, begin + chunk);
      float* __restrict a = a_.data();
      const float* __restrict b = b_.data();
      const float* __restrict c = c_.data();
      for (int64_t i = begin; i < end; ++i) a[i] = b[i] + 3.0f * c[i];
    });
    benchmark::ClobberMemory();
  }

 private:
  int64_t n_;
  std::vector<float> a_, b_, c_;
  Pool pool_;
};

template <typename F>
double seconds_of(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Times the benchmark loop and sets the counters.
template <typename F>
void timed_loop(benchmark::State& state, double bytes_per_elem, F&& body) {
  double total = 0.0;
  for (auto _ : state) total += seconds_of(body);
  const double bytes = bytes_per_elem * static_cast<double>(state.range(0));
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
  state.counters["bytes_per_elem"] = bytes_per_elem;
  state.counters["bytes_per_step"] = bytes;
  state.counters["GB/s"] = bytes * static_cast<double>(state.iterations()) / total / 1e9;
}

void BM_Triad(benchmark::State& state) {
  Triad triad(state.range(0));
  timed_loop(state, 12.0, [&] { triad.run(); });
}

void run_step(benchmark::State& state, const optim::OptimizerConfig& config,
              double bytes_per_param) {
  const int64_t n = state.range(0);
  // Four tensors, so the arena has several entries as in a model.
  std::vector<Tensor> params;
  for (int k = 0; k < 4; ++k) params.push_back(Tensor::randn({n / 4}).requires_grad(true));
  auto opt = optim::make_optimizer(params, config);
  opt->arena()->flat_grads().fill_(1e-3);
  opt->step();  // first touch of the state
  timed_loop(state, bytes_per_param, [&] { benchmark::DoNotOptimize(opt->step()); });

  // The ratio to the triad from rounds of one triad and one step back to back, best of each:
  // on a shared machine the best times are the ones least disturbed by other work.
  Triad triad(n);
  double best_triad = INFINITY, best_step = INFINITY;
  for (int round = 0; round < 10; ++round) {
    best_triad = std::min(best_triad, seconds_of([&] { triad.run(); }));
    best_step = std::min(best_step, seconds_of([&] { opt->step(); }));
  }
  state.counters["best_GB/s"] = bytes_per_param * static_cast<double>(n) / best_step / 1e9;
  state.counters["triad_best_GB/s"] = 12.0 * static_cast<double>(n) / best_triad / 1e9;
  state.counters["ratio_to_triad"] = (bytes_per_param / best_step) / (12.0 / best_triad);
}

void BM_SGDMomentum(benchmark::State& state) {
  run_step(state, optim::SGDConfig{.lr = 0.01, .momentum = 0.9}, 20);
}
void BM_Adam(benchmark::State& state) {
  run_step(state, optim::AdamConfig{}, 28);
}
void BM_Adam_NoCheck(benchmark::State& state) {
  run_step(state, optim::AdamConfig{.skip_nonfinite = false}, 28);
}
void BM_RMSprop(benchmark::State& state) {
  run_step(state, optim::RMSpropConfig{}, 20);
}

}  // namespace

#define NABLA_OPTIM_BENCH(fn) \
  BENCHMARK(fn)->Arg(1 << 20)->Arg(1 << 24)->Unit(benchmark::kMillisecond)->UseRealTime()
NABLA_OPTIM_BENCH(BM_Triad);
NABLA_OPTIM_BENCH(BM_SGDMomentum);
NABLA_OPTIM_BENCH(BM_Adam);
NABLA_OPTIM_BENCH(BM_Adam_NoCheck);
NABLA_OPTIM_BENCH(BM_RMSprop);
BENCHMARK_MAIN();
