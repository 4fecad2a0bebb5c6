// The trainer's captured CUDA graph step (TrainerConfig.cuda_graph): the same bits as the eager
// step, including the eager optimizer, schedule, partial last batch and evaluation between
// replays, and with the training set on the device; clear errors for steps that cannot be
// captured, with the device usable afterwards.
// Skipped without a CUDA device.
#include <gtest/gtest.h>

#include "nabla/nabla.h"
#include "support/gradcheck.h"
#include "support/parity.h"
#include "support/toy_training.h"

using namespace nabla;
using nabla::testing::expect_error;
using nabla::testing::flat_params;
using nabla::testing::quiet;
using nabla::testing::toy_classes;

namespace {

std::shared_ptr<nn::Sequential> mlp() {
  Generator gen(3);
  return std::make_shared<nn::Sequential>(nn::Linear(8, 32, true, &gen), nn::ReLU(),
                                          nn::Linear(32, 4, true, &gen));
}

train::TrainerConfig config(bool graph, bool data_on_device = false) {
  return {.epochs = 3,
          .batch_size = 16,
          .seed = 9,
          .device = Device::cuda(),
          .progress = train::ProgressMode::Off,
          .data_on_device = data_on_device,
          .cuda_graph = graph,
          .handle_signals = false};
}

}  // namespace

TEST(GpuGraph, CapturedStepGivesTheEagerBits) {
  NABLA_REQUIRE_CUDA();
  const auto train_set = toy_classes(1, 100), val_set = toy_classes(2, 40);
  const optim::OptimizerConfig sgd = optim::SGDConfig{.lr = 0.1, .momentum = 0.9};
  const sched::SchedulerConfig step = sched::StepLRConfig{.step_size = 1, .gamma = 0.5};
  auto eager_model = mlp(), graph_model = mlp();
  train::Trainer eager(eager_model, sgd, step, config(false));
  train::Trainer graph(graph_model, sgd, step, config(true));
  const train::History a = eager.fit(*train_set, val_set.get());
  const train::History b = graph.fit(*train_set, val_set.get());
  EXPECT_EQ(flat_params(*graph_model), flat_params(*eager_model));
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (size_t i = 0; i < a.epochs.size(); ++i) {
    EXPECT_EQ(a.epochs[i].train_loss, b.epochs[i].train_loss) << "epoch " << i + 1;
    EXPECT_EQ(a.epochs[i].train_accuracy, b.epochs[i].train_accuracy) << "epoch " << i + 1;
    EXPECT_EQ(a.epochs[i].test_loss, b.epochs[i].test_loss) << "epoch " << i + 1;
  }
  EXPECT_LT(b.epochs.back().train_loss, b.epochs.front().train_loss);
}

// With the training set on the device the replays read their batches there: the same bits.
TEST(GpuGraph, CapturedStepWithResidentDataGivesTheEagerBits) {
  NABLA_REQUIRE_CUDA();
  const auto train_set = toy_classes(1, 100);
  const optim::OptimizerConfig sgd = optim::SGDConfig{.lr = 0.1, .momentum = 0.9};
  auto eager_model = mlp(), graph_model = mlp();
  train::Trainer(eager_model, sgd, sched::NoSchedulerConfig{}, config(false)).fit(*train_set);
  train::Trainer(graph_model, sgd, sched::NoSchedulerConfig{}, config(true, true)).fit(*train_set);
  EXPECT_EQ(flat_params(*graph_model), flat_params(*eager_model));
  // A target out of range still fails clearly, though it was never on the host during the step.
  std::vector<int64_t> labels(100, 1);
  labels[37] = 9;
  const data::TensorDataset bad(toy_classes(1, 100)->inputs(), Tensor::from_vector(labels, {100}));
  expect_error(
      [&] { train::Trainer(mlp(), sgd, sched::NoSchedulerConfig{}, config(true, true)).fit(bad); },
      "out of range for 4 classes");
}

TEST(GpuGraph, AdamAcrossFitCallsGivesTheEagerBits) {
  NABLA_REQUIRE_CUDA();
  const auto train_set = toy_classes(4, 100);
  const optim::OptimizerConfig adam = optim::AdamConfig{.lr = 0.01};
  auto eager_model = mlp(), graph_model = mlp();
  train::Trainer eager(eager_model, adam, sched::NoSchedulerConfig{}, config(false));
  train::Trainer graph(graph_model, adam, sched::NoSchedulerConfig{}, config(true));
  eager.fit(*train_set);
  graph.fit(*train_set);
  graph.fit(*train_set);  // all epochs done: nothing more, the graph stays
  EXPECT_EQ(flat_params(*graph_model), flat_params(*eager_model));
}

TEST(GpuGraph, StepsThatCannotBeCapturedAreClearErrors) {
  NABLA_REQUIRE_CUDA();
  const auto train_set = toy_classes(5, 100);
  auto with_dropout = std::make_shared<nn::Sequential>(nn::Linear(8, 16), nn::ReLU(),
                                                       nn::Dropout(0.2), nn::Linear(16, 4));
  expect_error(
      [&] {
        train::Trainer(with_dropout, optim::SGDConfig{}, sched::NoSchedulerConfig{}, config(true))
            .fit(*train_set);
      },
      "random numbers cannot be drawn inside a captured CUDA graph");
  auto with_norm = std::make_shared<nn::Sequential>(nn::Linear(8, 16), nn::BatchNorm1d(16),
                                                    nn::ReLU(), nn::Linear(16, 4));
  expect_error(
      [&] {
        train::Trainer(with_norm, optim::SGDConfig{}, sched::NoSchedulerConfig{}, config(true))
            .fit(*train_set);
      },
      "cannot be captured as a CUDA graph");
  // The failed captures left the device usable.
  auto model = mlp();
  const train::History h =
      train::Trainer(model, optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{}, config(true))
          .fit(*train_set);
  EXPECT_TRUE(std::isfinite(h.epochs.back().train_loss));
}

TEST(GpuGraph, TargetsOutOfRangeAreCheckedOnTheHost) {
  NABLA_REQUIRE_CUDA();
  Generator gen(6);
  const Tensor x = Tensor::randn({48, 8}, &gen);
  std::vector<int64_t> labels(48, 1);
  labels[40] = 7;  // in the third batch: a replay
  data::TensorDataset data(x, Tensor::from_vector(labels, {48}));
  auto cfg = config(true);
  cfg.shuffle = false;
  train::Trainer trainer(mlp(), optim::SGDConfig{}, sched::NoSchedulerConfig{}, cfg);
  expect_error([&] { trainer.fit(data); }, "target 8 is 7");
}
