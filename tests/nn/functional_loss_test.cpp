// cross_entropy, nll_loss, mse_loss, binary_cross_entropy_with_logits: gradient checks for every
// reduction and option, PyTorch parity, numerical stability, errors.
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/nn/functional.h"
#include "nabla/threads.h"
#include "nn/functional_fixtures.h"

using namespace nabla;
namespace F = nabla::nn::functional;
using F::Reduction;
using nabla::testing::expect_error;
using nabla::testing::expect_gradients_match;
using nabla::testing::expect_matches_fixture;
using nabla::testing::uniform;

namespace {
Tensor targets(std::vector<int64_t> v, const Shape& shape) {
  return Tensor::from_vector(v, shape);
}
}  // namespace

TEST(CrossEntropy, Gradients) {
  const Tensor t2 = targets({0, 3, 1, 2, 3}, {5});
  const Tensor t3 = targets({0, 3, -100, 1, 2, 3, 3, 0, -100, 1}, {2, 5});
  const Tensor t_ign = targets({0, 2, 1, 2, 3}, {5});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    SCOPED_TRACE(static_cast<int>(r));
    expect_gradients_match(
        [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], t2, r); },
        {uniform({5, 4}, -3, 3)});
    // (N, C, L) with ignored positions and label smoothing
    expect_gradients_match(
        [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], t3, r, 0.2); },
        {uniform({2, 4, 5}, -3, 3)});
    // ignore_index 2 with label smoothing
    expect_gradients_match(
        [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], t_ign, r, 0.1, 2); },
        {uniform({5, 4}, -3, 3)});
  }
}

TEST(CrossEntropy, MatchesPyTorch) {
  expect_matches_fixture("cross_entropy_mean",
                         [](auto& f) { return F::cross_entropy(f["x"], f["t"]); });
  expect_matches_fixture("cross_entropy_smooth_ignore", [](auto& f) {
    return F::cross_entropy(f["x"], f["t"], Reduction::Mean, 0.1, 2);
  });
  expect_matches_fixture("cross_entropy_3d_mean", [](auto& f) {
    return F::cross_entropy(f["x"], f["t"], Reduction::Mean, 0.2);
  });
  expect_matches_fixture("cross_entropy_3d_sum", [](auto& f) {
    return F::cross_entropy(f["x"], f["t"], Reduction::Sum, 0.2);
  });
  expect_matches_fixture("cross_entropy_3d_none", [](auto& f) {
    return F::cross_entropy(f["x"], f["t"], Reduction::None, 0.2);
  });
}

TEST(CrossEntropy, StableForLargeLogits) {
  const Tensor x = Tensor::from_vector({1000.0f, 0.0f, -1000.0f, 500.0f}, {2, 2});
  const Tensor loss = F::cross_entropy(x, targets({1, 0}, {2}), Reduction::None);
  nabla::testing::expect_close(loss, {1000.0f, 1500.0f});
}

TEST(CrossEntropy, UnbatchedInput) {
  const Tensor x = Tensor::from_vector({0.5f, -1.0f, 2.0f}, {3});
  const Tensor loss = F::cross_entropy(x, Tensor::from_vector(std::vector<int64_t>{2}, {}));
  const double lse = std::log(std::exp(0.5) + std::exp(-1.0) + std::exp(2.0));
  EXPECT_NEAR(loss.item<float>(), lse - 2.0, 1e-6);
}

// The mean is float(sum of the kept losses, in double) / count, as sum(losses) / count was.
TEST(CrossEntropy, MeanOverKeptTargets) {
  const Tensor x = uniform({4, 3, 2}, -3, 3);
  const Tensor t = targets({0, -100, 2, 1, -100, -100, 1, 0}, {4, 2});
  const Tensor losses = F::cross_entropy(x, t, Reduction::None);
  double sum = 0.0;
  for (float l : losses.to_vector<float>()) sum += l;
  EXPECT_EQ(F::cross_entropy(x, t).item<float>(), static_cast<float>(sum) / 5.0f);
  EXPECT_EQ(F::nll_loss(x, t).item<float>(),
            F::nll_loss(x, t, Reduction::Sum).item<float>() / 5.0f);
  // No target kept: nan, as PyTorch, and no gradient reaches the logits.
  const Tensor xg = x.detach().requires_grad(true);
  const Tensor none = F::cross_entropy(xg, Tensor::full({4, 2}, -100.0, {DType::Int64}));
  EXPECT_TRUE(std::isnan(none.item<float>()));
  none.backward();
  for (float g : xg.grad().to_vector<float>()) EXPECT_EQ(g, 0.0f);
}

// The mean and its gradient are the same bit for bit on one thread and on two.
TEST(CrossEntropy, MeanIndependentOfThreadCount) {
  const Tensor x = uniform({40000, 10}, -3, 3);
  std::vector<int64_t> tv(40000);
  for (size_t i = 0; i < tv.size(); ++i) tv[i] = i % 7 == 0 ? -100 : static_cast<int64_t>(i % 10);
  const Tensor t = targets(tv, {40000});
  const int threads = get_num_threads();
  std::vector<float> loss, grad;
  for (int n : {1, 2}) {
    set_num_threads(n);
    const Tensor xg = x.detach().requires_grad(true);
    const Tensor l = F::cross_entropy(xg, t);
    l.backward();
    if (loss.empty()) {
      loss = l.to_vector<float>(), grad = xg.grad().to_vector<float>();
    } else {
      EXPECT_EQ(l.to_vector<float>(), loss);
      EXPECT_EQ(xg.grad().to_vector<float>(), grad);
    }
  }
  set_num_threads(threads);
}

TEST(NllLoss, GradientsAndPyTorch) {
  const Tensor t = targets({0, 1, 2, 1, 2, 1}, {2, 3});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    expect_gradients_match(
        [&](const std::vector<Tensor>& in) { return F::nll_loss(in[0], t, r, 1); },
        {uniform({2, 3, 3}, -2, 0)});
  expect_matches_fixture("nll_loss_3d",
                         [](auto& f) { return F::nll_loss(f["x"], f["t"], Reduction::Mean, 1); });
  expect_matches_fixture("nll_loss_sum",
                         [](auto& f) { return F::nll_loss(f["x"], f["t"], Reduction::Sum); });
}

TEST(MseLoss, GradientsAndPyTorch) {
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    expect_gradients_match(
        [&](const std::vector<Tensor>& in) { return F::mse_loss(in[0], in[1], r); },
        {uniform({3, 4}, -1, 1, 1), uniform({3, 4}, -1, 1, 2)});
  expect_matches_fixture("mse_loss_mean", [](auto& f) { return F::mse_loss(f["x"], f["y2"]); });
}

TEST(BceWithLogits, Gradients) {
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    // input, target and pos_weight (broadcast over the last dim) all get gradients.
    expect_gradients_match(
        [&](const std::vector<Tensor>& in) {
          return F::binary_cross_entropy_with_logits(in[0], in[1], r, in[2]);
        },
        {uniform({3, 4}, -4, 4, 1), uniform({3, 4}, 0, 1, 2), uniform({4}, 0.5, 2, 3)});
    expect_gradients_match(
        [&](const std::vector<Tensor>& in) {
          return F::binary_cross_entropy_with_logits(in[0], in[1], r);
        },
        {uniform({2, 5}, -4, 4, 4), uniform({2, 5}, 0, 1, 5)});
  }
}

TEST(BceWithLogits, MatchesPyTorch) {
  expect_matches_fixture("bce_logits_pos_weight", [](auto& f) {
    return F::binary_cross_entropy_with_logits(f["x"], f["t"], Reduction::Mean, f["pw"]);
  });
  expect_matches_fixture("bce_logits_sum", [](auto& f) {
    return F::binary_cross_entropy_with_logits(f["x"], f["t"], Reduction::Sum);
  });
}

TEST(Loss, Errors) {
  const Tensor x = Tensor::zeros({2, 3});
  expect_error(
      [&] {
        F::cross_entropy(x, targets({0, 3}, {2}));
      },
      "target 3 at position 1 is out of range for 3 classes");
  expect_error([&] { F::cross_entropy(x, targets({-1, 0}, {2})); }, "out of range");
  expect_error([&] { F::nll_loss(x, targets({0, 5}, {2})); }, "nll_loss: target 5");
  expect_error(
      [&] {
        F::cross_entropy(x, targets({0, 1, 2}, {3}));
      },
      "input of shape [2, 3] expects a target of shape [2], got [3]");
  expect_error([&] { F::cross_entropy(x, Tensor::zeros({2})); }, "expected int64 class indices");
  expect_error(
      [&] {
        F::binary_cross_entropy_with_logits(x, Tensor::zeros({3, 2}));
      },
      "must have the input's shape [2, 3]");
}
