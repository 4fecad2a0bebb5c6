// The reference workloads in the libtorch C++ frontend, as bench/workloads_bench.cpp runs them in
// nabla (same data, normalisation, models, optimizers, batch sizes, per-step read-backs). Prints
// one JSON line. Built by bench/run.sh when libtorch's headers are installed:
//   libtorch_workloads w1 [--epochs 5] [--threads 2]
#include <sys/resource.h>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

const std::string kData = "/usr/share/datasets/fashion-mnist";

std::vector<uint8_t> read_gz(const std::string& path, size_t header) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  gzclose(f);
  return std::vector<uint8_t>(bytes.begin() + header, bytes.end());
}

std::pair<torch::Tensor, torch::Tensor> load(const std::string& prefix) {
  auto images = read_gz(kData + "/" + prefix + "-images-idx3-ubyte.gz", 16);
  auto labels = read_gz(kData + "/" + prefix + "-labels-idx1-ubyte.gz", 8);
  const int64_t n = static_cast<int64_t>(labels.size());
  auto x = torch::from_blob(images.data(), {n, 1, 28, 28}, torch::kUInt8).to(torch::kFloat32);
  x = (x / 255.0 - 0.2860) / 0.3530;
  auto y = torch::from_blob(labels.data(), {n}, torch::kUInt8).to(torch::kInt64);
  return {x, y};
}

struct Workload {
  torch::nn::Sequential model;
  std::unique_ptr<torch::optim::Optimizer> opt;
  int64_t batch;
};

Workload make_workload(const std::string& name) {
  namespace tn = torch::nn;
  Workload w;
  if (name == "w1") {
    w.model = tn::Sequential(tn::Flatten(), tn::Linear(784, 100), tn::ReLU(), tn::Linear(100, 10));
    w.opt =
        std::make_unique<torch::optim::SGD>(w.model->parameters(), torch::optim::SGDOptions(0.1));
    w.batch = 64;
  } else if (name == "w2") {
    w.model = tn::Sequential(tn::Flatten(), tn::Linear(784, 512), tn::ReLU(), tn::Linear(512, 512),
                             tn::ReLU(), tn::Linear(512, 10));
    w.opt = std::make_unique<torch::optim::Adam>(w.model->parameters(),
                                                 torch::optim::AdamOptions(1e-3));
    w.batch = 128;
  } else if (name == "w3") {
    w.model = tn::Sequential(tn::Conv2d(tn::Conv2dOptions(1, 4, 3).padding(1)), tn::ReLU(),
                             tn::MaxPool2d(2), tn::Conv2d(tn::Conv2dOptions(4, 8, 3).padding(1)),
                             tn::ReLU(), tn::MaxPool2d(2), tn::Flatten(), tn::Linear(392, 10));
    w.opt =
        std::make_unique<torch::optim::SGD>(w.model->parameters(), torch::optim::SGDOptions(0.05));
    w.batch = 128;
  } else {
    throw std::runtime_error("unknown workload " + name);
  }
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: libtorch_workloads w1|w2|w3 [--epochs N] [--threads T]\n");
    return 1;
  }
  const std::string name = argv[1];
  int epochs = 5, threads = 2;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--epochs")) epochs = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--threads")) threads = std::stoi(argv[i + 1]);
  }
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  auto [x_train, y_train] = load("train");
  auto [x_test, y_test] = load("t10k");
  Workload w = make_workload(name);
  const int64_t n = x_train.size(0);
  std::vector<double> secs;
  for (int e = 0; e < epochs; ++e) {
    const auto t0 = std::chrono::steady_clock::now();
    w.model->train();
    const auto order = torch::randperm(n);
    int64_t correct = 0;
    for (int64_t i = 0; i < n; i += w.batch) {
      const auto idx = order.slice(0, i, std::min(n, i + w.batch));
      const auto x = x_train.index_select(0, idx), y = y_train.index_select(0, idx);
      w.opt->zero_grad();
      const auto out = w.model->forward(x);
      const auto loss = torch::nn::functional::cross_entropy(out, y);
      loss.item<float>();
      loss.backward();
      w.opt->step();
      correct += out.argmax(1).eq(y).sum().item<int64_t>();
    }
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  w.model->eval();
  int64_t right = 0;
  {
    torch::NoGradGuard no_grad;
    for (int64_t i = 0; i < x_test.size(0); i += 1000)
      right += w.model->forward(x_test.slice(0, i, i + 1000))
                   .argmax(1)
                   .eq(y_test.slice(0, i, i + 1000))
                   .sum()
                   .item<int64_t>();
  }
  std::vector<double> sorted = secs;
  std::sort(sorted.begin(), sorted.end());
  const size_t m = sorted.size();
  const double med = m % 2 ? sorted[m / 2] : 0.5 * (sorted[m / 2 - 1] + sorted[m / 2]);
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf(
      "{\"framework\": \"libtorch\", \"workload\": \"%s\", \"epochs\": %d, \"epoch_seconds\": [",
      name.c_str(), epochs);
  for (size_t i = 0; i < secs.size(); ++i) std::printf("%s%.4f", i ? ", " : "", secs[i]);
  std::printf(
      "], \"median_s\": %.4f, \"examples_per_s\": %.0f, \"accuracy\": %.4f, "
      "\"peak_rss_mb\": %.1f}\n",
      med, static_cast<double>(n) / med, static_cast<double>(right) / x_test.size(0),
      u.ru_maxrss / 1024.0);
  return 0;
}
