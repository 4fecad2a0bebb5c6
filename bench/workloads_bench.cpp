// The three reference workloads on Fashion-MNIST (W1: MLP 784-100-10 with SGD, W2: MLP
// 784-512-512-10 with Adam, W3: the small CNN with SGD) trained by train::Trainer, and the
// machine limits they are judged against (best of several runs: STREAM triad, sgemm at the
// workloads' shapes, one Adam step over 16M parameters). Each run prints one JSON line;
// bench/run.sh runs each workload in its own process (so peak memory is the workload's) and prints
// the table.
//
//   workloads_bench w1 [--epochs 5] [--threads 2] [--seed 0] [--device cpu|cuda]
//   workloads_bench limits [--threads 2]
//
// Parity with PyTorch, step by step: `--steps N --init FILE` starts from the weights in FILE (a
// safetensors file, e.g. from bench/peers/torch_workloads.py --save-init) and prints the loss of
// each of the first N steps over the training set in its stored order (no shuffle), one JSON line
// per step, as the peer does with --steps N. The two agree to float rounding until the
// trajectories drift apart (SGD: ~1e-7 relative over the first 30 steps).
#include <cblas.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "nabla/nabla.h"
#include "nabla/train/safetensors.h"

using namespace nabla;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Shortest of `repeats` timings of fn, after one warm-up call: a machine limit is the best the
// machine does, and other processes on it only ever slow a run down.
double time_best(int repeats, const std::function<void()>& fn) {
  fn();
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

struct Workload {
  std::shared_ptr<nn::Sequential> model;
  optim::OptimizerConfig optimizer;
  int64_t batch_size;
};

Workload make_workload(const std::string& name) {
  auto m = std::make_shared<nn::Sequential>();
  if (name == "w1") {
    *m = nn::Sequential{nn::Flatten(), nn::Linear(784, 100), nn::ReLU(), nn::Linear(100, 10)};
    return {m, optim::SGDConfig{.lr = 0.1}, 64};
  }
  if (name == "w2") {
    *m = nn::Sequential{nn::Flatten(),        nn::Linear(784, 512), nn::ReLU(),
                        nn::Linear(512, 512), nn::ReLU(),           nn::Linear(512, 10)};
    return {m, optim::AdamConfig{.lr = 1e-3}, 128};
  }
  NABLA_CHECK(name == "w3", "unknown workload '{}' (expected w1, w2, w3 or limits)", name);
  *m = nn::Sequential{nn::Conv2d(1, 4, 3, 1, 1),
                      nn::ReLU(),
                      nn::MaxPool2d(2),
                      nn::Conv2d(4, 8, 3, 1, 1),
                      nn::ReLU(),
                      nn::MaxPool2d(2),
                      nn::Flatten(),
                      nn::Linear(392, 10)};
  return {m, optim::SGDConfig{.lr = 0.05}, 128};
}

struct WorkloadOptions {
  int64_t epochs = 5;
  uint64_t seed = 0;      // initialisation and data order
  int64_t steps = 0;      // > 0: step losses over the unshuffled data instead of a timed run
  std::string init_path;  // weights to start from instead of the seeded initialisation
  Device device = Device::cpu();
  bool cuda_graph = false;                // replay the captured step (TrainerConfig.cuda_graph)
  bool data_on_device = false;            // TrainerConfig.data_on_device
  Precision precision = Precision::fp32;  // TrainerConfig.precision
};

void run_workload(const std::string& name, const WorkloadOptions& opt) {
  const data::MnistData fashion = data::load_mnist(data::kFashionMNISTDir);
  const data::MNIST& train_set = fashion.train;
  const data::MNIST& test_set = fashion.test;
  manual_seed(opt.seed);
  Workload w = make_workload(name);
  if (!opt.init_path.empty()) {
    const io::TensorMap weights = io::load_safetensors(opt.init_path).tensors;
    w.model->load_state_dict(nn::StateDict(weights.begin(), weights.end()));
  }
  train::Trainer trainer(w.model, w.optimizer, sched::NoSchedulerConfig{},
                         {.epochs = opt.steps > 0 ? 1 : opt.epochs,
                          .batch_size = w.batch_size,
                          .seed = opt.seed,
                          .device = opt.device,
                          .progress = train::ProgressMode::Off,
                          .shuffle = opt.steps == 0,
                          .data_on_device = opt.data_on_device,
                          .cuda_graph = opt.cuda_graph,
                          .precision = opt.precision,
                          .handle_signals = false});
  if (opt.steps > 0) {
    const int64_t n = std::min(opt.steps * w.batch_size, train_set.size());
    const data::TensorDataset head(train_set.images().narrow(0, 0, n),
                                   train_set.labels().narrow(0, 0, n));
    trainer.on_step_end = [&](const train::StepInfo& s) {
      fmt::print(
          "{{\"framework\": \"nabla\", \"workload\": \"{}\", \"step\": {}, \"loss\": {:.8f}}}\n",
          name, s.batch, s.loss);
    };
    trainer.fit(head);
    return;
  }
  const train::History history = trainer.fit(train_set);
  const train::EvalResult test = trainer.evaluate(test_set);
  std::vector<double> secs;
  for (const auto& e : history.epochs) secs.push_back(e.seconds);
  const double med = median(secs);
  fmt::print(
      "{{\"framework\": \"nabla\", \"device\": \"{}{}{}\", \"precision\": \"{}\", "
      "\"workload\": \"{}\", \"epochs\": {}, \"epoch_seconds\": [{:.4f}],"
      " \"median_s\": {:.4f}, \"examples_per_s\": {:.0f}, \"accuracy\": {:.4f},"
      " \"peak_rss_mb\": {:.1f}}}\n",
      opt.device.str(), opt.cuda_graph ? " graph" : "", opt.data_on_device ? " resident" : "",
      precision_name(opt.precision), name, opt.epochs, fmt::join(secs, ", "), med,
      static_cast<double>(train_set.size()) / med, test.accuracy, peak_rss_mb());
}

// ---------------------------------------------------------------- machine limits

// a = b + s c over n floats, one static chunk per thread (as the library's loops); GB/s at
// 12 B/elem. Plain threads started per pass (microseconds against milliseconds of work): no
// spinning runtime, which on a shared machine would measure the other processes.
double triad_gbps(int64_t n, int threads) {
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  auto chunk = [&](int t) {
    const int64_t size = (n + threads - 1) / threads, begin = t * size;
    const int64_t end = std::min(n, begin + size);
    float* __restrict pa = a.data();
    const float* __restrict pb = b.data();
    const float* __restrict pc = c.data();
    for (int64_t i = begin; i < end; ++i) pa[i] = pb[i] + 3.0f * pc[i];
  };
  const double s = time_best(20, [&] {
    std::vector<std::jthread> workers;
    for (int t = 1; t < threads; ++t) workers.emplace_back(chunk, t);
    chunk(0);
  });
  return 12.0 * static_cast<double>(n) / s / 1e9;
}

// Seconds of one row-major sgemm C (m, n) = op(A) op(B), as nabla's linear layer calls it: the
// faster of OpenBLAS on one thread and on all of them (nabla keeps OpenBLAS on one thread and
// splits products itself; this is OpenBLAS's own best).
double sgemm_seconds(int m, int n, int k, bool ta, bool tb) {
  std::vector<float> a(static_cast<size_t>(m) * k, 0.5f), b(static_cast<size_t>(k) * n, 0.25f),
      c(static_cast<size_t>(m) * n);
  const int lda = ta ? m : k, ldb = tb ? k : n;
  const int reps = std::max(20, static_cast<int>(2e9 / (2.0 * m * n * k)));
  double best = 1e30;
  for (int threads : {1, get_num_threads()}) {
    openblas_set_num_threads(threads);
    best = std::min(best, time_best(5, [&] {
                            for (int r = 0; r < reps; ++r)
                              cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                                          tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a.data(),
                                          lda, b.data(), ldb, 0.0f, c.data(), n);
                          }) / reps);
  }
  openblas_set_num_threads(1);
  return best;
}

// The GEMMs of one training step of an MLP with these layer widths and batch: per layer the
// forward y = x W^T and dW = g^T x, and dx = g W for every layer but the first. Seconds per
// epoch of 60000 examples (the last partial batch counted as full).
double mlp_gemm_floor(const std::vector<int>& widths, int batch) {
  double step = 0.0;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    const int in = widths[l], out = widths[l + 1];
    step += sgemm_seconds(batch, out, in, false, true);              // forward
    step += sgemm_seconds(out, in, batch, true, false);              // dW
    if (l > 0) step += sgemm_seconds(batch, in, out, false, false);  // dx
  }
  return step * static_cast<double>((60000 + batch - 1) / batch);
}

void run_limits() {
  const int64_t n = int64_t{1} << 24;
  const double triad = triad_gbps(n, get_num_threads());
  const double first = sgemm_seconds(64, 100, 784, false, true);
  const double w1_floor = mlp_gemm_floor({784, 100, 10}, 64);
  const double w2_floor = mlp_gemm_floor({784, 512, 512, 10}, 128);
  // One Adam step over 16M parameters (4 tensors, as a model): 28 B per parameter.
  std::vector<Tensor> params;
  for (int k = 0; k < 4; ++k) params.push_back(Tensor::randn({n / 4}).requires_grad(true));
  auto opt = optim::make_optimizer(params, optim::AdamConfig{});
  opt->arena()->flat_grads().fill_(1e-3);
  const double adam = 28.0 * static_cast<double>(n) / time_best(20, [&] { opt->step(); }) / 1e9;
  fmt::print(
      "{{\"framework\": \"machine\", \"workload\": \"limits\", \"triad_gbps\": {:.2f},"
      " \"sgemm_w1_first_gflops\": {:.1f}, \"w1_gemm_floor_s\": {:.4f}, \"w2_gemm_floor_s\": "
      "{:.4f},"
      " \"adam16m_gbps\": {:.2f}, \"adam_over_triad\": {:.3f}}}\n",
      triad, 2.0 * 64 * 100 * 784 / first / 1e9, w1_floor, w2_floor, adam, adam / triad);
}

int run(int argc, char** argv) {
  NABLA_CHECK(argc >= 2,
              "usage: workloads_bench w1|w2|w3|limits [--epochs N] [--threads T] [--seed S] "
              "[--device D] [--cuda-graph] [--data-on-device] [--precision P] "
              "[--steps N --init FILE]");
  const std::string what = argv[1];
  WorkloadOptions opt;
  int threads = 2;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--cuda-graph" || flag == "--data-on-device") {
      (flag == "--cuda-graph" ? opt.cuda_graph : opt.data_on_device) = true;
      continue;
    }
    NABLA_CHECK(i + 1 < argc, "option '{}' needs a value", flag);
    const char* value = argv[++i];
    if (flag == "--epochs")
      opt.epochs = std::stoll(value);
    else if (flag == "--seed")
      opt.seed = std::stoull(value);
    else if (flag == "--steps")
      opt.steps = std::stoll(value);
    else if (flag == "--init")
      opt.init_path = value;
    else if (flag == "--threads")
      threads = std::stoi(value);
    else if (flag == "--device")
      opt.device = Device::parse(value);
    else if (flag == "--precision")
      opt.precision = parse_precision(value);
    else
      NABLA_FAIL("unknown option '{}'", flag);
  }
  set_num_threads(threads);
  if (what == "limits")
    run_limits();
  else
    run_workload(what, opt);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
