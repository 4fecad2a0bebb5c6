// The MNIST speedrun's last rung (examples/mnist_speedrun.h) on real MNIST, one seed per
// repetition: the time is the speedrun's own (training steps and target checks, from the first
// step to the check that first reaches 99 %), reported as manual time. Counters: accuracy (the
// last check's), reached (1 when it reached the target) and epochs (trained). With the default
// 10 repetitions the median line is the speedrun's median over seeds 0..9 and the mean of
// `reached` is the fraction of seeds that reached 99 %.
//
//   build/bench/speedrun_bench [--benchmark_repetitions=10]
//
// The data comes from NABLA_MNIST_DIR or the fetched real MNIST (scripts/get-mnist.sh); the
// thread count from NABLA_THREADS (default: all cores).
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "examples/mnist_speedrun.h"

using namespace nabla;

namespace {

void BM_Speedrun(benchmark::State& state) {
  static const auto data = [] {
    const char* dir = std::getenv("NABLA_MNIST_DIR");
    if (const char* threads = std::getenv("NABLA_THREADS")) set_num_threads(std::atoi(threads));
    return data::load_mnist(dir ? dir : "");
  }();
  static uint64_t seed = 0;  // one seed per repetition
  const speedrun::Rung& rung = speedrun::ladder().back();
  speedrun::Result result;
  for (auto _ : state) {
    result = speedrun::run(rung, seed, 0.99, data.train, data.test, Device::cpu());
    state.SetIterationTime(result.seconds());
  }
  state.counters["seed"] = static_cast<double>(seed++);
  state.counters["accuracy"] = result.accuracy();
  state.counters["reached"] = result.reached ? 1.0 : 0.0;
  state.counters["epochs"] = result.checks.back().epoch;
  state.SetLabel(data.source.describe());
}

BENCHMARK(BM_Speedrun)
    ->Iterations(1)
    ->Repetitions(10)
    ->UseManualTime()
    ->Unit(benchmark::kSecond)
    ->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
