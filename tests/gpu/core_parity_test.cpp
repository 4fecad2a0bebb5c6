// CPU-vs-CUDA parity of every core op (skipped without a CUDA device).
#include "ops/linear.h"
#include "support/gradcheck.h"
#include "support/parity.h"

using namespace nabla;
using nabla::testing::expect_cpu_cuda_parity;
using nabla::testing::ParityTolerance;
using nabla::testing::uniform;
using Inputs = std::vector<Tensor>;

TEST(CoreParity, Creation) {
  NABLA_REQUIRE_CUDA();
  Generator a(5), b(5);
  const Tensor cpu = Tensor::randn({1000}, &a);
  const Tensor gpu = Tensor::randn({1000}, &b, {.device = Device::cuda()});
  // The same Philox stream on both devices; libm and CUDA's log/sin differ by a few ulps.
  EXPECT_TRUE(allclose(cpu, gpu, 1e-5, 1e-5));
  EXPECT_TRUE(allclose(Tensor::arange(7), Tensor::arange(7, {.device = Device::cuda()})));
}

TEST(CoreParity, Elementwise) {
  NABLA_REQUIRE_CUDA();
  const Tensor x = uniform({4, 5}, 0.2f, 2.0f, 1), y = uniform({5}, 0.5f, 1.5f, 2);
  const std::vector<std::function<Tensor(const Inputs&)>> fns = {
      [](const Inputs& v) { return v[0] + v[1]; },
      [](const Inputs& v) { return v[0] - v[1]; },
      [](const Inputs& v) { return v[0] * v[1]; },
      [](const Inputs& v) { return v[0] / v[1]; },
      [](const Inputs& v) { return pow(v[0], v[1]); },
      [](const Inputs& v) { return maximum(v[0], v[1]); },
      [](const Inputs& v) { return where(gt(v[0], v[1]), v[0], v[1]); },
      [](const Inputs& v) { return exp(v[0]) + log(v[1]) + sqrt(v[0]); },
      [](const Inputs& v) { return relu(v[0] - 1.0f) + sigmoid(v[0]) + tanh(v[1]) + gelu(v[0]); },
      [](const Inputs& v) { return clamp(v[0], 0.5f, 1.5f) + abs(v[0] - 1.0f) + pow(v[0], 2.5f); },
      [](const Inputs& v) { return 2.0f / v[0] + (1.0f - v[1]); },
  };
  for (size_t i = 0; i < fns.size(); ++i) {
    SCOPED_TRACE(i);
    expect_cpu_cuda_parity(fns[i], {x, y});
  }
}

TEST(CoreParity, ReductionsAndSoftmax) {
  NABLA_REQUIRE_CUDA();
  const Tensor x = uniform({3, 4, 50}, -2.0f, 2.0f, 3);
  // Sums of up to 600 terms: a few ulps of the total.
  const ParityTolerance sums{1e-5, 1e-4};
  expect_cpu_cuda_parity([](const Inputs& v) { return v[0].sum(); }, {x}, sums);
  expect_cpu_cuda_parity([](const Inputs& v) { return v[0].sum({1}, true); }, {x}, sums);
  expect_cpu_cuda_parity([](const Inputs& v) { return v[0].mean({0, 2}); }, {x}, sums);
  expect_cpu_cuda_parity([](const Inputs& v) { return v[0].max(2); }, {x});
  expect_cpu_cuda_parity([](const Inputs& v) { return v[0].softmax(-1); }, {x}, sums);
  expect_cpu_cuda_parity([](const Inputs& v) { return v[0].log_softmax(1); }, {x}, sums);
  expect_cpu_cuda_parity([](const Inputs& v) { return v[0].argmax(2); }, {x});
  const Tensor idx = Tensor::from_vector(std::vector<int64_t>{1, 0, 3, 3, 2, 1}, {3, 2});
  expect_cpu_cuda_parity([](const Inputs& v) { return gather(v[0], 1, v[1]); },
                         {uniform({3, 4}, -1, 1, 4), idx});
}

TEST(CoreParity, MatmulAndLinear) {
  NABLA_REQUIRE_CUDA();
  // GEMM over k = 64 terms in a different order (cuBLAS blocking, fused multiply-add).
  const ParityTolerance gemm{1e-4, 1e-4};
  const Tensor a = uniform({8, 64}, -1, 1, 5), b = uniform({64, 16}, -1, 1, 6);
  expect_cpu_cuda_parity([](const Inputs& v) { return matmul(v[0], v[1]); }, {a, b}, gemm);
  expect_cpu_cuda_parity([](const Inputs& v) { return matmul(v[0].t(), v[0]); }, {a}, gemm);
  expect_cpu_cuda_parity([](const Inputs& v) { return matmul(v[0], v[1]); },
                         {uniform({2, 3, 8, 64}, -1, 1, 7), b}, gemm);
  expect_cpu_cuda_parity([](const Inputs& v) { return linear(v[0], v[1], v[2]); },
                         {a, uniform({10, 64}, -1, 1, 8), uniform({10}, -1, 1, 9)}, gemm);
  // The fused bias + ReLU epilogue and its backward (mask and bias column sums), with 300
  // outputs so the column loop spans several blocks.
  expect_cpu_cuda_parity(
      [](const Inputs& v) {
        return ops::linear_activation(v[0], v[1], v[2], ops::Activation::Relu);
      },
      {a, uniform({300, 64}, -1, 1, 11), uniform({300}, -1, 1, 12)}, gemm);
}

TEST(CoreParity, ViewsAndCopies) {
  NABLA_REQUIRE_CUDA();
  const Tensor x = uniform({4, 6}, -1, 1, 10);
  expect_cpu_cuda_parity([](const Inputs& v) { return v[0].t().contiguous() * 2.0f; }, {x});
  expect_cpu_cuda_parity([](const Inputs& v) { return v[0].slice(1, 1, 6, 2) + 1.0f; }, {x});
  expect_cpu_cuda_parity([](const Inputs& v) { return cat({v[0], v[0].t().t()}, 1); }, {x});
  expect_cpu_cuda_parity([](const Inputs& v) { return v[0].to(DType::Int64).to(DType::Float32); },
                         {x * 10.0f});
}

// A tensor on a device the machine lacks is refused, not placed on cuda:0; with a second device,
// an op runs there and leaves the current device as it was.
TEST(CoreParity, EveryCallRunsOnItsTensorsDevice) {
  NABLA_REQUIRE_CUDA();
  const int count = cuda::device_count();
  try {
    (void)Tensor::zeros({4}, {.device = Device::cuda(count)});
    FAIL() << "expected nabla::Error for cuda:" << count;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not a device of this machine"), std::string::npos)
        << e.what();
  }
  if (count < 2) GTEST_SKIP() << "one CUDA device: the second-device half needs two";
  const Tensor x = uniform({64, 32}, -1.0f, 1.0f, 3), w = uniform({16, 32}, -1.0f, 1.0f, 4);
  const Tensor expected = softmax(matmul(x, w.t()), 1).sum();
  const Device second = Device::cuda(1);
  const Tensor got = softmax(matmul(x.to(second), w.to(second).t()), 1).sum();
  EXPECT_EQ(got.device(), second);
  EXPECT_NEAR(got.item<float>(), expected.item<float>(), 1e-4);
  // cuda:0's work still runs on cuda:0 after the calls on cuda:1.
  EXPECT_NEAR((x.to(Device::cuda()) * 2.0f).sum().item<float>(), (x * 2.0f).sum().item<float>(),
              1e-4);
}
