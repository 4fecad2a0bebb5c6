// CPU-vs-CUDA parity of every nn::functional op (outputs and input gradients), in training and
// evaluation mode where they differ, over the option combinations that change the kernels'
// index arithmetic; device-side errors; deterministic convolutions; and a short training run
// whose losses must agree step by step. Skipped without a CUDA device.
#include <cmath>

#include "nabla/nn/functional.h"
#include "support/gradcheck.h"
#include "support/parity.h"

using namespace nabla;
namespace F = nabla::nn::functional;
using nabla::testing::expect_cpu_cuda_parity;
using nabla::testing::expect_error;
using nabla::testing::ParityTolerance;
using nabla::testing::uniform;
using Inputs = std::vector<Tensor>;

namespace {

const Tensor kNone;

// cuDNN may pick implicit-GEMM, FFT or Winograd algorithms, which sum the (up to a few hundred)
// products of a convolution and of its gradients in other orders and through other transforms:
// about 1e-5 of the result's scale, which is O(1) to O(10) here.
const ParityTolerance kConv{1e-4, 1e-4};
// Statistics are accumulated in double on both devices and the elementwise float math is the
// same sequence; what remains is the float reductions of the core ops around them (mean, sum_to)
// and CUDA's expf/logf, a few ulps off libm.
const ParityTolerance kReduced{1e-5, 1e-5};

Tensor int64_tensor(const std::vector<int64_t>& v, const Shape& shape) {
  return Tensor::from_vector(v, shape);
}

}  // namespace

TEST(NnParity, Conv2d) {
  NABLA_REQUIRE_CUDA();
  struct Case {
    const char* name;
    Shape x, w;
    F::Conv2dOptions o;
    bool bias;
  };
  const std::vector<Case> cases = {
      {"3x3", {2, 3, 8, 8}, {4, 3, 3, 3}, {}, true},
      {"stride 2, padding 1", {2, 3, 9, 9}, {5, 3, 3, 3}, {{2, 2}, {1, 1}, {1, 1}, 1}, true},
      {"dilation 2", {2, 2, 10, 10}, {3, 2, 3, 3}, {{1, 1}, {2, 2}, {2, 2}, 1}, false},
      {"groups 2", {2, 4, 7, 7}, {6, 2, 3, 3}, {{1, 1}, {1, 1}, {1, 1}, 2}, true},
      {"depthwise", {3, 4, 6, 6}, {4, 1, 3, 3}, {{1, 1}, {1, 1}, {1, 1}, 4}, true},
      {"rectangular, asymmetric options",
       {2, 3, 9, 7},
       {4, 3, 3, 2},
       {{2, 1}, {0, 1}, {1, 2}, 1},
       true},
      {"1x1", {4, 8, 5, 5}, {6, 8, 1, 1}, {}, false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.name);
    Inputs in = {uniform(c.x, -1, 1, 10 + i), uniform(c.w, -1, 1, 20 + i)};
    if (c.bias) in.push_back(uniform({c.w[0]}, -1, 1, 30 + i));
    const F::Conv2dOptions o = c.o;
    expect_cpu_cuda_parity(
        [o](const Inputs& v) { return F::conv2d(v[0], v[1], v.size() > 2 ? v[2] : kNone, o); }, in,
        kConv);
  }
}

TEST(NnParity, Conv2dDeterministicModeIsBitwiseRepeatable) {
  NABLA_REQUIRE_CUDA();
  cuda::set_deterministic(true);
  auto run = [] {
    Tensor x = uniform({4, 8, 12, 12}, -1, 1, 40).to(Device::cuda()).requires_grad(true);
    Tensor w = uniform({8, 8, 3, 3}, -1, 1, 41).to(Device::cuda()).requires_grad(true);
    const Tensor y = F::conv2d(x, w, kNone, {.padding = {1, 1}});
    (y * y).sum().backward();
    return std::vector<std::vector<float>>{y.to_vector<float>(), x.grad().to_vector<float>(),
                                           w.grad().to_vector<float>()};
  };
  const auto first = run(), second = run();
  cuda::set_deterministic(false);
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i], second[i]) << "tensor " << i;
}

TEST(NnParity, MaxPool2d) {
  NABLA_REQUIRE_CUDA();
  const Tensor x = uniform({2, 3, 9, 8}, -1, 1, 50);
  // Same window arithmetic, same comparisons, and the backward adds in the CPU's order: exact.
  const ParityTolerance exact{0, 0};
  expect_cpu_cuda_parity([](const Inputs& v) { return F::max_pool2d(v[0], {2, 2}); }, {x}, exact);
  expect_cpu_cuda_parity(
      [](const Inputs& v) {
        return F::max_pool2d(v[0], {3, 3}, {2, 2}, {1, 1});
      },
      {x}, exact);
  expect_cpu_cuda_parity(
      [](const Inputs& v) {
        return F::max_pool2d(v[0], {3, 2}, {2, 1}, {1, 0});
      },
      {x}, exact);
  // Overlapping windows (stride 1): an input can be the argmax of several outputs.
  expect_cpu_cuda_parity(
      [](const Inputs& v) {
        return F::max_pool2d(v[0], {3, 3}, {1, 1});
      },
      {x}, exact);
}

TEST(NnParity, AvgPool2d) {
  NABLA_REQUIRE_CUDA();
  const Tensor x = uniform({2, 3, 9, 8}, -1, 1, 51);
  const ParityTolerance exact{0, 0};  // as for max pooling
  for (bool include_pad : {true, false}) {
    SCOPED_TRACE(include_pad ? "count_include_pad" : "clipped divisor");
    expect_cpu_cuda_parity(
        [=](const Inputs& v) {
          return F::avg_pool2d(v[0], {2, 2}, {0, 0}, {0, 0}, include_pad);
        },
        {x}, exact);
    expect_cpu_cuda_parity(
        [=](const Inputs& v) {
          return F::avg_pool2d(v[0], {3, 3}, {2, 2}, {1, 1}, include_pad);
        },
        {x}, exact);
    expect_cpu_cuda_parity(
        [=](const Inputs& v) {
          return F::avg_pool2d(v[0], {3, 2}, {1, 2}, {1, 1}, include_pad);
        },
        {x}, exact);
  }
}

TEST(NnParity, BatchNormTrainingUpdatesRunningStatistics) {
  NABLA_REQUIRE_CUDA();
  for (const Shape& shape : {Shape({8, 3}), Shape({4, 3, 5, 6})}) {
    SCOPED_TRACE(shape.str());
    for (bool affine : {true, false}) {
      Inputs in = {uniform(shape, -2, 3, 60)};
      if (affine) in.insert(in.end(), {uniform({3}, 0.5, 1.5, 61), uniform({3}, -1, 1, 62)});
      // The output followed by the updated running statistics, so that they are compared too.
      expect_cpu_cuda_parity(
          [](const Inputs& v) {
            const Device d = v[0].device();
            Tensor rm = uniform({3}, -0.5, 0.5, 63).to(d), rv = uniform({3}, 0.5, 1.5, 64).to(d);
            const Tensor y = F::batch_norm(v[0], rm, rv, v.size() > 1 ? v[1] : kNone,
                                           v.size() > 1 ? v[2] : kNone, true, 0.2);
            return cat({y.flatten(), rm, rv}, 0);
          },
          in, kReduced);
    }
  }
}

TEST(NnParity, BatchNormEval) {
  NABLA_REQUIRE_CUDA();
  expect_cpu_cuda_parity(
      [](const Inputs& v) {
        const Device d = v[0].device();
        const Tensor rm = uniform({3}, -0.5, 0.5, 65).to(d), rv = uniform({3}, 0.5, 1.5, 66).to(d);
        return F::batch_norm(v[0], rm, rv, v[1], v[2], false);
      },
      {uniform({4, 3, 5, 5}, -2, 2, 67), uniform({3}, 0.5, 1.5, 68), uniform({3}, -1, 1, 69)},
      kReduced);
}

TEST(NnParity, LayerGroupInstanceNorm) {
  NABLA_REQUIRE_CUDA();
  const Tensor x = uniform({3, 4, 5, 6}, -2, 2, 70);
  const Tensor w4 = uniform({4}, 0.5, 1.5, 71), b4 = uniform({4}, -1, 1, 72);
  expect_cpu_cuda_parity(
      [](const Inputs& v) {
        return F::layer_norm(v[0], {5, 6}, v[1], v[2]);
      },
      {x, uniform({5, 6}, 0.5, 1.5, 73), uniform({5, 6}, -1, 1, 74)}, kReduced);
  expect_cpu_cuda_parity([](const Inputs& v) { return F::layer_norm(v[0], {6}); }, {x}, kReduced);
  expect_cpu_cuda_parity([](const Inputs& v) { return F::group_norm(v[0], 2, v[1], v[2]); },
                         {x, w4, b4}, kReduced);
  // Instance norm in training (input statistics, running statistics updated) and eval mode.
  expect_cpu_cuda_parity(
      [](const Inputs& v) {
        const Device d = v[0].device();
        Tensor rm = Tensor::zeros({4}).to(d), rv = Tensor::ones({4}).to(d);
        const Tensor y = F::instance_norm(v[0], rm, rv, v[1], v[2], true);
        return cat({y.flatten(), rm, rv}, 0);
      },
      {x, w4, b4}, kReduced);
  expect_cpu_cuda_parity(
      [](const Inputs& v) {
        const Device d = v[0].device();
        const Tensor rm = uniform({4}, -0.5, 0.5, 75).to(d), rv = uniform({4}, 0.5, 1.5, 76).to(d);
        return F::instance_norm(v[0], rm, rv, v[1], v[2], false);
      },
      {x, w4, b4}, kReduced);
}

TEST(NnParity, Dropout) {
  NABLA_REQUIRE_CUDA();
  const Tensor x = uniform({7, 33}, -1, 1, 80);
  // The mask is the same Philox stream on both devices; kept values are x * scale on both.
  for (double p : {0.1, 0.5, 0.9}) {
    SCOPED_TRACE(p);
    expect_cpu_cuda_parity(
        [p](const Inputs& v) {
          Generator gen(81);
          return F::dropout(v[0], p, true, &gen);
        },
        {x}, ParityTolerance{0, 0});
  }
  expect_cpu_cuda_parity([](const Inputs& v) { return F::dropout(v[0], 0.5, false); }, {x},
                         ParityTolerance{0, 0});
}

TEST(NnParity, CrossEntropy) {
  NABLA_REQUIRE_CUDA();
  const Tensor logits = uniform({6, 5}, -3, 3, 90);
  const Tensor target = int64_tensor({0, 4, 2, 2, 1, 3}, {6});
  const Tensor with_ignored = int64_tensor({0, -100, 2, 2, -100, 3}, {6});
  const Tensor custom_ignore = int64_tensor({0, 4, 2, 2, 1, 3}, {6});  // ignore_index 2 below
  for (auto reduction : {F::Reduction::Mean, F::Reduction::Sum, F::Reduction::None}) {
    for (double ls : {0.0, 0.2}) {
      SCOPED_TRACE(::testing::Message()
                   << "reduction " << static_cast<int>(reduction) << ", ls " << ls);
      auto f = [=](int64_t ignore) {
        return [=](const Inputs& v) { return F::cross_entropy(v[0], v[1], reduction, ls, ignore); };
      };
      expect_cpu_cuda_parity(f(-100), {logits, target}, kReduced);
      expect_cpu_cuda_parity(f(-100), {logits, with_ignored}, kReduced);
      expect_cpu_cuda_parity(f(2), {logits, custom_ignore}, kReduced);
    }
  }
  // (N, C, d1, d2) scores: the classes of a position are d1 d2 apart.
  Generator gen(91);
  const Tensor spatial_target =
      (Tensor::rand({2, 3, 4}, &gen) * 4.0f).to(DType::Int64);  // classes 0..3
  expect_cpu_cuda_parity(
      [](const Inputs& v) { return F::cross_entropy(v[0], v[1], F::Reduction::None, 0.1); },
      {uniform({2, 4, 3, 4}, -3, 3, 92), spatial_target}, kReduced);
  // More classes than a warp has lanes: each lane sums several, then the warp combines them.
  const Tensor many = (Tensor::rand({8}, &gen) * 1000.0f).to(DType::Int64);
  expect_cpu_cuda_parity([](const Inputs& v) { return F::cross_entropy(v[0], v[1]); },
                         {uniform({8, 1000}, -5, 5, 93), many}, kReduced);
}

TEST(NnParity, NllLoss) {
  NABLA_REQUIRE_CUDA();
  const Tensor target = int64_tensor({1, 0, 3, -100, 2}, {5});
  for (auto reduction : {F::Reduction::Mean, F::Reduction::Sum, F::Reduction::None}) {
    expect_cpu_cuda_parity(
        [=](const Inputs& v) { return F::nll_loss(v[0].log_softmax(1), v[1], reduction); },
        {uniform({5, 4}, -2, 2, 100), target}, kReduced);
  }
  expect_cpu_cuda_parity(
      [](const Inputs& v) { return F::nll_loss(v[0], v[1], F::Reduction::Mean, 3); },
      {uniform({5, 4}, -2, 0, 101), int64_tensor({1, 0, 3, 3, 2}, {5})}, kReduced);
}

TEST(NnParity, MseAndBinaryCrossEntropyWithLogits) {
  NABLA_REQUIRE_CUDA();
  const Tensor x = uniform({4, 3}, -4, 4, 110), t = uniform({4, 3}, 0, 1, 111);
  const Tensor pos_weight = uniform({3}, 0.5, 3, 112);
  for (auto reduction : {F::Reduction::Mean, F::Reduction::Sum, F::Reduction::None}) {
    expect_cpu_cuda_parity([=](const Inputs& v) { return F::mse_loss(v[0], v[1], reduction); },
                           {x, t}, kReduced);
    expect_cpu_cuda_parity(
        [=](const Inputs& v) { return F::binary_cross_entropy_with_logits(v[0], v[1], reduction); },
        {x, t}, kReduced);
    // Gradients for input, target and pos_weight (summed back to its shape).
    expect_cpu_cuda_parity(
        [=](const Inputs& v) {
          return F::binary_cross_entropy_with_logits(v[0], v[1], reduction, v[2]);
        },
        {x, t, pos_weight}, kReduced);
  }
}

TEST(NnParity, TargetOutOfRangeIsAnError) {
  NABLA_REQUIRE_CUDA();
  const Tensor logits = uniform({3, 4}, -1, 1, 120).to(Device::cuda());
  const Tensor bad = int64_tensor({0, 4, 1}, {3}).to(Device::cuda());
  const Tensor negative = int64_tensor({0, -1, 1}, {3}).to(Device::cuda());
  expect_error([&] { F::cross_entropy(logits, bad); }, "out of range for 4 classes");
  expect_error([&] { F::cross_entropy(logits, negative); }, "out of range for 4 classes");
  expect_error([&] { F::nll_loss(logits, bad); }, "out of range for 4 classes");
  // The device is still usable afterwards.
  const Tensor ok = int64_tensor({0, 3, 1}, {3}).to(Device::cuda());
  EXPECT_TRUE(std::isfinite(F::cross_entropy(logits, ok).item<float>()));
}

// A small MLP with dropout trained by plain SGD on both devices from the same initial weights
// and data: the losses must agree at every step.
TEST(NnParity, TrainingRunMatches) {
  NABLA_REQUIRE_CUDA();
  const Tensor x = uniform({32, 20}, -1, 1, 130);
  Generator label_gen(131);
  const Tensor y = (Tensor::rand({32}, &label_gen) * 5.0f).to(DType::Int64);
  const Inputs init = {uniform({32, 20}, -0.3f, 0.3f, 132), uniform({32}, -0.1f, 0.1f, 133),
                       uniform({5, 32}, -0.3f, 0.3f, 134), uniform({5}, -0.1f, 0.1f, 135)};
  constexpr int kSteps = 30;
  constexpr float kLr = 0.2f;
  auto train = [&](Device device) {
    Inputs params;
    for (const Tensor& p : init) params.push_back(p.to(device).clone().requires_grad(true));
    const Tensor xd = x.to(device), yd = y.to(device);
    Generator dropout_gen(136);
    std::vector<float> losses;
    for (int step = 0; step < kSteps; ++step) {
      const Tensor h = F::dropout(relu(linear(xd, params[0], params[1])), 0.2, true, &dropout_gen);
      const Tensor loss =
          F::cross_entropy(linear(h, params[2], params[3]), yd, F::Reduction::Mean, 0.05);
      loss.backward();
      losses.push_back(loss.item<float>());
      NoGradGuard no_grad;
      for (Tensor& p : params) p = (p - p.grad() * kLr).detach().requires_grad(true);
    }
    return losses;
  };
  const std::vector<float> cpu = train(Device::cpu()), gpu = train(Device::cuda());
  ASSERT_EQ(cpu.size(), gpu.size());
  // GEMMs of 20 and 32 terms in another order, compounded over 30 updates.
  for (size_t i = 0; i < cpu.size(); ++i)
    EXPECT_NEAR(gpu[i], cpu[i], 1e-4 * std::fabs(cpu[i]) + 1e-5) << "step " << i;
  EXPECT_LT(cpu.back(), 0.8f * cpu.front()) << "the run should learn something";
}
