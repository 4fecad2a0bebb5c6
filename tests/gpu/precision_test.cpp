// Mixed precision on the GPU against the CPU (skipped without a CUDA device): the same rounding
// bit for bit, autocast products within one unit of the precision's last place (the float32 sums
// run in another order, and cuBLAS multiplies bf16/fp16 operands on the tensor cores), the
// device-resident loader's batches, and a bf16 training run.
#include <cstring>
#include <numeric>

#include "nabla/nabla.h"
#include "support/gradcheck.h"
#include "support/idx_writer.h"
#include "support/parity.h"

using namespace nabla;
using nabla::testing::expect_cpu_cuda_parity;
using nabla::testing::ParityTolerance;
using nabla::testing::uniform;
using Inputs = std::vector<Tensor>;

TEST(GpuPrecision, RoundingIsTheCpusBitForBit) {
  NABLA_REQUIRE_CUDA();
  // Every 4099th float32 bit pattern: all signs, exponents, subnormals, infinities and NaNs.
  std::vector<float> values;
  for (uint64_t v = 0; v < (uint64_t{1} << 32); v += 4099) {
    const auto bits = static_cast<uint32_t>(v);
    float x;
    std::memcpy(&x, &bits, sizeof x);
    values.push_back(x);
  }
  const Tensor cpu = Tensor::from_vector(values, {static_cast<int64_t>(values.size())});
  const Tensor gpu = cpu.to(Device::cuda());
  for (Precision p : {Precision::bf16, Precision::fp16}) {
    const std::vector<float> a = round_to(cpu, p).to_vector<float>();
    const std::vector<float> b = round_to(gpu, p).to_vector<float>();
    for (std::size_t i = 0; i < a.size(); ++i)
      ASSERT_TRUE(std::isnan(a[i]) ? std::isnan(b[i]) : std::memcmp(&a[i], &b[i], 4) == 0)
          << precision_name(p) << ": " << values[i] << " -> " << a[i] << " vs " << b[i];
  }
}

TEST(GpuPrecision, AutocastProductsMatchTheCpu) {
  NABLA_REQUIRE_CUDA();
  const Tensor a = uniform({8, 64}, -1, 1, 5), b = uniform({64, 16}, -1, 1, 6);
  const Tensor w = uniform({300, 64}, -1, 1, 11), bias = uniform({300}, -1, 1, 12);
  const Tensor x = uniform({2, 3, 9, 9}, -1, 1, 13), k = uniform({4, 3, 3, 3}, -1, 1, 14);
  const std::vector<std::pair<std::string, std::function<Tensor(const Inputs&)>>> products = {
      {"matmul", [](const Inputs& v) { return matmul(v[0], v[1]); }},
      {"linear relu", [](const Inputs& v) { return relu(linear(v[0], v[1], v[2])); }},
      {"conv2d",
       [](const Inputs& v) {
         return nn::functional::conv2d(v[0], v[1], Tensor(), {.padding = {1, 1}});
       }},
  };
  const std::vector<Inputs> inputs = {{a, b}, {a, w, bias}, {x, k}};
  for (Precision p : {Precision::bf16, Precision::fp16}) {
    // One unit in the last place of the precision, and a little more for values near zero.
    const double unit = p == Precision::bf16 ? 0x1p-7 : 0x1p-10;
    const ParityTolerance tol{unit, 4 * unit};
    for (std::size_t i = 0; i < products.size(); ++i) {
      SCOPED_TRACE(products[i].first + " " + std::string(precision_name(p)));
      // The forward under the guard (the backward after it, as the header allows) ...
      expect_cpu_cuda_parity(
          [&](const Inputs& v) {
            AutocastGuard autocast(p);
            return products[i].second(v);
          },
          inputs[i], tol);
      // ... and both under it, so that matmul's backward GEMMs also run on the tensor cores.
      AutocastGuard autocast(p);
      expect_cpu_cuda_parity(products[i].second, inputs[i], tol);
    }
  }
}

TEST(GpuPrecision, ResidentLoaderGivesTheHostBatches) {
  NABLA_REQUIRE_CUDA();
  const int64_t n = 1001;
  std::vector<int64_t> labels(n);
  std::iota(labels.begin(), labels.end(), 0);
  const data::TensorDataset ds(uniform({n, 3, 5}, -1, 1, 15), Tensor::from_vector(labels, {n}));
  const data::DataLoaderConfig host{.batch_size = 64, .shuffle = true, .seed = 4};
  data::DataLoaderConfig device = host;
  device.resident_on = Device::cuda();
  data::DataLoader a(ds, host), b(ds, device);
  for (int epoch = 0; epoch < 2; ++epoch)
    while (auto x = a.next()) {
      const auto y = b.next();
      ASSERT_TRUE(y.has_value());
      ASSERT_TRUE(y->inputs.device().is_cuda());
      EXPECT_EQ(x->inputs.to_vector<float>(), y->inputs.to_vector<float>());
      EXPECT_EQ(x->targets.to_vector<int64_t>(), y->targets.to_vector<int64_t>());
    }
  EXPECT_FALSE(b.next().has_value());
}

// A bf16 run with the data on the device learns like the CPU's bf16 run, and resumes bit for bit.
TEST(GpuPrecision, Bf16TrainingOnTheDevice) {
  NABLA_REQUIRE_CUDA();
  Generator gen(1);
  const Tensor inputs = Tensor::randn({512, 20}, &gen);
  Generator wgen(2);
  const data::TensorDataset ds(inputs, argmax(matmul(inputs, Tensor::randn({20, 5}, &wgen)), 1));
  auto model_on = [](uint64_t seed) {
    Generator g(seed);
    return std::make_shared<nn::Sequential>(nn::Linear(20, 64, true, &g), nn::ReLU(),
                                            nn::Linear(64, 5, true, &g));
  };
  auto fit = [&](Device device, std::shared_ptr<nn::Sequential> model, std::string dir,
                 std::string resume) {
    train::Trainer t(model, optim::AdamConfig{.lr = 1e-2}, sched::NoSchedulerConfig{},
                     {.epochs = 4,
                      .batch_size = 32,
                      .seed = 3,
                      .device = device,
                      .checkpoint_dir = dir,
                      .checkpoint_every = 20,
                      .keep_last = 0,
                      .resume = resume,
                      .overwrite = true,
                      .progress = train::ProgressMode::Off,
                      .data_on_device = true,
                      .precision = Precision::bf16,
                      .handle_signals = false});
    return *t.fit(ds, &ds).epochs.back().test_accuracy;
  };
  nabla::testing::TempDir dir("nabla_gpu_bf16");
  const double cpu = fit(Device::cpu(), model_on(7), (dir / "cpu").string(), "");
  auto straight = model_on(7);
  const double gpu = fit(Device::cuda(), straight, (dir / "gpu").string(), "");
  EXPECT_NEAR(gpu, cpu, 0.03);
  auto resumed = model_on(8);
  fit(Device::cuda(), resumed, (dir / "resumed").string(),
      (dir / "gpu" / train::checkpoint_filename(20)).string());
  const std::vector<Tensor> p = straight->parameters(), q = resumed->parameters();
  for (std::size_t i = 0; i < p.size(); ++i)
    EXPECT_EQ(p[i].to_vector<float>(), q[i].to_vector<float>()) << "parameter " << i;
}
