// Bad numbers: a non-finite loss or gradient skips the update and is reported with its step;
// too many in a row stop training with an error naming where; gradient clipping leaves infinite
// gradients for the optimizer to skip and copes with squares that overflow float.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "nabla/nabla.h"
#include "support/gradcheck.h"

using namespace nabla;
using nabla::testing::expect_error;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::shared_ptr<data::TensorDataset> toy_data() {
  Generator gen(1);
  const Tensor x = Tensor::randn({64, 4}, &gen);
  return std::make_shared<data::TensorDataset>(x, argmax(x, 1));
}

std::unique_ptr<train::Trainer> toy_trainer(int64_t max_skips = 20, double clip = 0.0) {
  Generator gen(2);
  train::TrainerConfig c;
  c.epochs = 1;
  c.batch_size = 16;  // 4 steps
  c.progress = train::ProgressMode::Off;
  c.handle_signals = false;
  c.max_consecutive_skips = max_skips;
  c.clip_grad_norm = clip;
  return std::make_unique<train::Trainer>(std::make_shared<nn::Linear>(4, 4, true, &gen),
                                          optim::AdamConfig{.lr = 1e-2}, sched::NoSchedulerConfig{},
                                          c);
}

std::vector<float> params_of(train::Trainer& t) {
  std::vector<float> out;
  for (const Tensor& p : t.model().parameters()) {
    const auto v = p.to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// Cross-entropy, poisoned on the batches listed: the loss itself (NaN) or only its gradient
// (sqrt at 0 has an infinite slope; times the zero that made the 0, a NaN gradient).
train::LossFn poisoned(std::vector<int> loss_batches, std::vector<int> grad_batches) {
  auto calls = std::make_shared<int>(0);
  return [=](const Tensor& out, const Tensor& y) {
    const int call = (*calls)++;
    Tensor loss = nn::functional::cross_entropy(out, y);
    if (std::count(loss_batches.begin(), loss_batches.end(), call))
      loss = add(loss, Tensor::scalar(std::nanf("")));
    if (std::count(grad_batches.begin(), grad_batches.end(), call))
      loss = add(loss, sqrt(mul(out, Tensor::scalar(0.0f))).sum());
    return loss;
  };
}

struct Poison {
  std::vector<int> loss, grad;
  std::string report;  // what the trainer prints for the poisoned step
};

TEST(NonFinite, SkippedUpdatesAreReportedWithTheirStep) {
  for (const Poison& p : {Poison{{1}, {}, "step 2: non-finite loss, update skipped"},
                          Poison{{}, {2}, "step 3: non-finite gradient, update skipped"}}) {
    SCOPED_TRACE(p.report);
    auto trainer = toy_trainer();
    trainer->set_loss(poisoned(p.loss, p.grad));
    std::vector<train::StepInfo> steps;
    std::vector<std::vector<float>> params;
    trainer->on_step_end = [&](const train::StepInfo& s) {
      steps.push_back(s);
      params.push_back(params_of(*trainer));
    };
    ::testing::internal::CaptureStdout();
    const train::History h = trainer->fit(*toy_data());
    const std::string printed = ::testing::internal::GetCapturedStdout();
    EXPECT_NE(printed.find(p.report), std::string::npos) << printed;
    ASSERT_EQ(steps.size(), 4u);
    const int bad = p.loss.empty() ? p.grad[0] : p.loss[0];
    for (int i = 0; i < 4; ++i) EXPECT_EQ(steps[i].skipped, i == bad) << "batch " << i;
    EXPECT_EQ(params[bad], params[bad - 1]) << "a skipped update must not touch the parameters";
    EXPECT_EQ(trainer->global_step(), 3);
    EXPECT_EQ(h.epochs.at(0).skipped_steps, 1);
    for (float v : params_of(*trainer)) EXPECT_TRUE(std::isfinite(v));
  }
}

TEST(NonFinite, ConsecutiveSkipsStopTrainingWithWhere) {
  auto trainer = toy_trainer(/*max_skips=*/2);
  trainer->set_loss(poisoned({0, 1, 2, 3}, {}));
  ::testing::internal::CaptureStdout();
  expect_error([&] { trainer->fit(*toy_data()); },
               "training diverged: 3 consecutive updates had non-finite values (last at epoch 1, "
               "batch 3)");
  ::testing::internal::GetCapturedStdout();
}

TEST(NonFinite, ClippingLeavesInfiniteGradientsForTheOptimizerToSkip) {
  Tensor w = Tensor::from_vector({1, 2, 3}, {3}).requires_grad(true);
  auto opt = optim::make_optimizer(std::vector<Tensor>{w}, optim::SGDConfig{.lr = 0.1});
  for (float bad : {kInf, -kInf, std::nanf("")}) {
    w.grad().copy_(Tensor::from_vector({0.5f, bad, 1}, {3}));
    EXPECT_FALSE(std::isfinite(optim::clip_grad_norm(*opt, 1.0)));
    EXPECT_FALSE(std::isfinite(optim::clip_grad_value(*opt, 1.0)));
    const auto g = w.grad().to_vector<float>();
    EXPECT_EQ(g[0], 0.5f);  // untouched: not scaled by 1/inf into zeros
    EXPECT_FALSE(opt->step()) << "the update must be skipped";
    EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{1, 2, 3}));
  }
}

TEST(NonFinite, ClippingCopesWithSquaresThatOverflowFloat) {
  Tensor w = Tensor::zeros({1000}).requires_grad(true);
  auto opt = optim::make_optimizer(std::vector<Tensor>{w}, optim::SGDConfig{.lr = 1.0});
  w.grad().fill_(1e30);  // each square overflows float; the norm, 1e30 * sqrt(1000), does not
  const double norm = optim::clip_grad_norm(*opt, 2.0);
  EXPECT_NEAR(norm / (1e30 * std::sqrt(1000.0)), 1.0, 1e-6);
  EXPECT_NEAR(optim::global_norm(opt->arena()->flat_grads()), 2.0, 1e-5);
  w.grad().fill_(-3e38);
  optim::clip_grad_value(*opt, 0.5);
  for (float g : w.grad().to_vector<float>()) EXPECT_EQ(g, -0.5f);
  EXPECT_TRUE(opt->step());
}

TEST(NonFinite, ClippingInTheTrainerSkipsInfiniteGradients) {
  auto trainer = toy_trainer(20, /*clip=*/1.0);
  trainer->set_loss(poisoned({}, {0}));
  ::testing::internal::CaptureStdout();
  const train::History h = trainer->fit(*toy_data());
  ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(h.epochs.at(0).skipped_steps, 1);
  for (float v : params_of(*trainer)) EXPECT_TRUE(std::isfinite(v));
}

}  // namespace
