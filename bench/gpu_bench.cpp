// The CUDA device's limits and nabla's fused optimizer steps against them, in one run: a
// device-to-device copy (the bandwidth an elementwise update can reach, counting bytes read and
// written), float32 GEMM through the library's matmul (TF32 off, then on), and one optimizer step
// over N parameters for several rules. An update is memory bound, so its figure of merit is
// bytes moved per second over the copy's (target 0.85 for Adam). Prints one table.
//
//   gpu_bench [--params 67108864] [--repeats 50]
#include <cuda_runtime.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "nabla/nabla.h"

using namespace nabla;

namespace {

void check(cudaError_t status, const char* what) {
  NABLA_CHECK(status == cudaSuccess, "{} failed: {}", what, cudaGetErrorString(status));
}

// Median seconds of one call of fn over `repeats` timed batches of `inner` calls, after a
// warm-up batch. Each batch ends with a whole-device synchronisation (the copy runs on the
// default stream, the library on its own), so queued work is counted and the launch cost is
// amortised over `inner` calls, as in a training loop.
double median_seconds(int repeats, int inner, const std::function<void()>& fn) {
  auto batch = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < inner; ++i) fn();
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / inner;
  };
  batch();
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) times.push_back(batch());
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

double copy_gbps(int64_t n, int repeats) {
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  void *src = nullptr, *dst = nullptr;
  check(cudaMalloc(&src, bytes), "cudaMalloc");
  check(cudaMalloc(&dst, bytes), "cudaMalloc");
  check(cudaMemset(src, 1, bytes), "cudaMemset");
  const double s = median_seconds(repeats, 10, [&] {
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, nullptr), "cudaMemcpyAsync");
  });
  check(cudaFree(src), "cudaFree");
  check(cudaFree(dst), "cudaFree");
  return 2.0 * static_cast<double>(bytes) / s / 1e9;  // read + write
}

double matmul_tflops(int64_t size, bool tf32, int repeats) {
  cuda::set_allow_tf32(tf32);
  const Tensor a = Tensor::randn({size, size}, nullptr, {.device = Device::cuda()});
  const Tensor b = Tensor::randn({size, size}, nullptr, {.device = Device::cuda()});
  NoGradGuard no_grad;
  const double s = median_seconds(repeats, 5, [&] { (void)matmul(a, b); });
  cuda::set_allow_tf32(false);
  return 2.0 * static_cast<double>(size * size * size) / s / 1e12;
}

struct Rule {
  std::string name;
  optim::OptimizerConfig config;
  double bytes_per_param;  // reads and writes the update itself must make
};

// GB/s of one optimizer step over n parameters held in four tensors, as in a model.
double step_gbps(const Rule& rule, int64_t n, int repeats) {
  std::vector<Tensor> params;
  for (int k = 0; k < 4; ++k)
    params.push_back(
        Tensor::randn({n / 4}, nullptr, {.device = Device::cuda()}).requires_grad(true));
  auto opt = optim::make_optimizer(params, rule.config);
  opt->arena()->flat_grads().fill_(1e-3);
  const double s = median_seconds(repeats, 10, [&] { (void)opt->step(); });
  return rule.bytes_per_param * static_cast<double>(n) / s / 1e9;
}

int run(int argc, char** argv) {
  int64_t n = int64_t{1} << 26;
  int repeats = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--params"))
      n = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats"))
      repeats = std::stoi(argv[i + 1]);
    else
      NABLA_FAIL("unknown option '{}' (expected --params N or --repeats R)", argv[i]);
  }
  NABLA_CHECK(cuda::is_available(), "gpu_bench needs a CUDA device");
  NABLA_CHECK(n % 16 == 0 && n > 0, "--params must be a positive multiple of 16, got {}", n);

  const double copy = copy_gbps(n, repeats);
  fmt::print("{:<34} {:>10}  {:>8}\n", "measurement", "rate", "of copy");
  fmt::print("{:<34} {:>6.0f} GB/s  {:>8}\n", fmt::format("device-to-device copy, {} floats", n),
             copy, "1.00");
  for (bool tf32 : {false, true})
    fmt::print("{:<34} {:>4.1f} TFLOP/s\n",
               fmt::format("matmul 8192^3 float32{}", tf32 ? ", TF32" : ""),
               matmul_tflops(8192, tf32, std::max(5, repeats / 10)));

  // Bytes per parameter: each rule reads p, g and its state and writes p and its state; the
  // non-finite check reads g once more (4 B), counted where it is on.
  const std::vector<Rule> rules = {
      {"SGD", optim::SGDConfig{.lr = 0.01, .skip_nonfinite = false}, 12},
      {"SGD momentum", optim::SGDConfig{.lr = 0.01, .momentum = 0.9, .skip_nonfinite = false}, 20},
      {"Adam", optim::AdamConfig{.skip_nonfinite = false}, 28},
      {"Adam + non-finite check", optim::AdamConfig{}, 32},
      {"AdamW", optim::AdamWConfig{.skip_nonfinite = false}, 28},
      {"AMSGrad", optim::AdamConfig{.amsgrad = true, .skip_nonfinite = false}, 36},
      {"RMSprop", optim::RMSpropConfig{.skip_nonfinite = false}, 20},
      {"Adagrad", optim::AdagradConfig{.skip_nonfinite = false}, 20},
      {"NAdam", optim::NAdamConfig{.skip_nonfinite = false}, 28},
  };
  for (const Rule& rule : rules) {
    const double gbps = step_gbps(rule, n, repeats);
    fmt::print("{:<34} {:>6.0f} GB/s  {:>8.2f}\n", fmt::format("{} step", rule.name), gbps,
               gbps / copy);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
