// The trainer on the GPU: a run resumed from a mid-epoch checkpoint ends bitwise equal to the
// uninterrupted one (deterministic mode), and a checkpoint written on the GPU resumes on the
// CPU. Skipped without a CUDA device.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "nabla/nabla.h"
#include "support/parity.h"

using namespace nabla;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("nabla_gpu_trainer_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// 96 single-channel 8x8 images in 3 classes, labelled by a fixed linear map: learnable.
std::shared_ptr<data::TensorDataset> toy_images() {
  Generator gen(7), wgen(8);
  const Tensor x = Tensor::randn({96, 1, 8, 8}, &gen);
  const Tensor w = Tensor::randn({64, 3}, &wgen);
  return std::make_shared<data::TensorDataset>(x, argmax(matmul(x.reshape({96, 64}), w), 1));
}

// Every kind of layer whose GPU path differs from the CPU's: cuDNN convolution, batch norm
// (running statistics), pooling, dropout (Philox on the device), cuBLAS linear.
std::shared_ptr<nn::Sequential> toy_cnn() {
  Generator gen(3);
  return std::make_shared<nn::Sequential>(
      nn::Conv2d(1, 4, 3, 1, 1, 1, 1, true, &gen), nn::BatchNorm2d(4), nn::ReLU(), nn::MaxPool2d(2),
      nn::Flatten(), nn::Dropout(0.1), nn::Linear(64, 3, true, &gen));
}

train::TrainerConfig config_for(Device device, const fs::path& dir) {
  return {.epochs = 3,
          .batch_size = 16,
          .seed = 5,
          .device = device,
          .checkpoint_dir = dir.string(),
          .checkpoint_every = 4,
          .keep_last = 0,
          .progress = train::ProgressMode::Off,
          .handle_signals = false};
}

std::vector<float> flat_state(nn::Module& m) {
  std::vector<float> out;
  for (const auto& [name, t] : m.state_dict()) {
    if (t.dtype() != DType::Float32) continue;
    const auto v = t.to(Device::cpu()).to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

const optim::OptimizerConfig kAdam = optim::AdamConfig{.lr = 0.01};
// Adam's update is about lr times the gradient's sign where gradients are small, so rounding
// differences between devices grow to lr-sized steps; plain momentum keeps them at rounding size.
const optim::OptimizerConfig kMomentum = optim::SGDConfig{.lr = 0.05, .momentum = 0.9};
const sched::SchedulerConfig kStep = sched::StepLRConfig{.step_size = 2, .gamma = 0.5};

}  // namespace

TEST(GpuTrainer, ResumeFromAMidEpochCheckpointIsExact) {
  NABLA_REQUIRE_CUDA();
  cuda::set_deterministic(true);
  const auto data = toy_images();
  const fs::path dir = fresh_dir("exact");
  auto straight_model = toy_cnn();
  train::Trainer straight(straight_model, kAdam, kStep, config_for(Device::cuda(), dir));
  straight.fit(*data, data.get());
  const std::vector<float> expected = flat_state(*straight_model);

  auto config = config_for(Device::cuda(), dir / "resumed");
  config.resume = (dir / train::checkpoint_filename(8)).string();  // 6 steps per epoch
  auto model = toy_cnn();
  train::Trainer resumed(model, kAdam, kStep, config);
  EXPECT_EQ(resumed.global_step(), 8);
  resumed.fit(*data, data.get());
  EXPECT_EQ(flat_state(*model), expected);
  cuda::set_deterministic(false);
  fs::remove_all(dir);
}

TEST(GpuTrainer, CheckpointFromTheGpuResumesOnTheCpu) {
  NABLA_REQUIRE_CUDA();
  cuda::set_deterministic(true);  // the same GPU trajectory on every run
  const auto data = toy_images();
  const fs::path dir = fresh_dir("cross");
  auto gpu_model = toy_cnn();
  train::Trainer on_gpu(gpu_model, kMomentum, kStep, config_for(Device::cuda(), dir));
  on_gpu.fit(*data, data.get());

  auto config = config_for(Device::cpu(), dir / "cpu");
  config.resume = (dir / train::checkpoint_filename(8)).string();
  auto cpu_model = toy_cnn();
  train::Trainer on_cpu(cpu_model, kMomentum, kStep, config);
  on_cpu.fit(*data, data.get());
  // The same ten remaining steps on the other device: float32 rounding apart, the same model.
  const std::vector<float> a = flat_state(*gpu_model), b = flat_state(*cpu_model);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-3 * (1 + std::abs(a[i]))) << i;
  cuda::set_deterministic(false);
  fs::remove_all(dir);
}
