// One optimizer step over 1M and 16M parameters on the CPU (SGD with momentum, Adam, RMSprop),
// against a STREAM triad (a = b + s c) over the same number of floats measured in the same run.
// An optimizer step is memory bound, so the figure of merit is bytes moved per second relative
// to the triad. Counters: bytes_per_elem (what the rule must read and write per parameter;
// Adam 28 B: reads p, g, m, v, writes p, m, v; triad 12 B), bytes_per_step, GB/s, and
// ratio_to_triad. The
// non-finite check (skip_nonfinite, on by default) reads the gradients once more, 4 B/param that
// GB/s does not count; BM_Adam_NoCheck leaves the check out.
#include <benchmark/benchmark.h>

#include <barrier>
#include <chrono>
#include <functional>
#include <map>
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

std::map<int64_t, double>& triad_gbps() {
  static std::map<int64_t, double> m;  // size -> GB/s of the latest triad run
  return m;
}

// Times the benchmark loop and sets the counters; returns GB/s.
template <typename F>
double timed_loop(benchmark::State& state, double bytes_per_elem, F&& body) {
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) body();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double bytes = bytes_per_elem * static_cast<double>(state.range(0));
  const double gbps = bytes * static_cast<double>(state.iterations()) / seconds / 1e9;
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
  state.counters["bytes_per_elem"] = bytes_per_elem;
  state.counters["bytes_per_step"] = bytes;
  state.counters["GB/s"] = gbps;
  return gbps;
}

void BM_Triad(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  Pool pool(get_num_threads());
  auto job = [&](int t) {
    const int64_t chunk = (n + pool.threads() - 1) / pool.threads();
    const int64_t begin = t * chunk, end = std::min(n, begin + chunk);
    float* __restrict pa = a.data();
    const float* __restrict pb = b.data();
    const float* __restrict pc = c.data();
    for (int64_t i = begin; i < end; ++i) pa[i] = pb[i] + 3.0f * pc[i];
  };
  pool.run(job);  // first touch
  triad_gbps()[n] = timed_loop(state, 12.0, [&] {
    pool.run(job);
    benchmark::ClobberMemory();
  });
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
  const double gbps =
      timed_loop(state, bytes_per_param, [&] { benchmark::DoNotOptimize(opt->step()); });
  const auto triad = triad_gbps().find(n);
  if (triad != triad_gbps().end()) state.counters["ratio_to_triad"] = gbps / triad->second;
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

// Triad first for each size, so the ratios below can use it.
#define NABLA_OPTIM_BENCH(fn) \
  BENCHMARK(fn)->Arg(1 << 20)->Arg(1 << 24)->Unit(benchmark::kMillisecond)->UseRealTime()
NABLA_OPTIM_BENCH(BM_Triad);
NABLA_OPTIM_BENCH(BM_SGDMomentum);
NABLA_OPTIM_BENCH(BM_Adam);
NABLA_OPTIM_BENCH(BM_Adam_NoCheck);
NABLA_OPTIM_BENCH(BM_RMSprop);
BENCHMARK_MAIN();
