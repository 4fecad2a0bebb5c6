// Loss modules: each forwards its options to nn::functional; references computed here from the
// core ops (log_softmax, gather, ...), independently of the functional implementations.
#include <gtest/gtest.h>

#include <cmath>

#include "support/gradcheck.h"

using namespace nabla;
using nabla::testing::expect_close;
using nabla::testing::expect_error;

namespace {
const Tensor kLogits = Tensor::from_vector({1.0f, 2.0f, 0.5f, -1.0f, 0.0f, 3.0f}, {2, 3});
const Tensor kLabels = Tensor::from_vector(std::vector<int64_t>{1, 2}, {2});

// -log_softmax(logits)[i, y_i] per row.
std::vector<float> nll_per_row(const Tensor& logits, const std::vector<int64_t>& labels) {
  const std::vector<float> lp = log_softmax(logits, 1).to_vector<float>();
  const int64_t c = logits.shape()[1];
  std::vector<float> out;
  for (size_t i = 0; i < labels.size(); ++i) out.push_back(-lp[i * c + labels[i]]);
  return out;
}
}  // namespace

TEST(LossModules, CrossEntropyReductionsAndOptions) {
  const std::vector<float> rows = nll_per_row(kLogits, {1, 2});
  expect_close(nn::CrossEntropyLoss()(kLogits, kLabels), {(rows[0] + rows[1]) / 2});
  expect_close(nn::CrossEntropyLoss({.reduction = nn::Reduction::Sum})(kLogits, kLabels),
               {rows[0] + rows[1]});
  expect_close(nn::CrossEntropyLoss({.reduction = nn::Reduction::None})(kLogits, kLabels), rows);

  // ignore_index: the ignored row leaves the mean.
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{1, -100}, {2});
  expect_close(nn::CrossEntropyLoss()(kLogits, labels), {rows[0]});
  const Tensor labels7 = Tensor::from_vector(std::vector<int64_t>{7, 2}, {2});
  expect_close(nn::CrossEntropyLoss({.ignore_index = 7})(kLogits, labels7), {rows[1]});

  // Label smoothing eps: (1 - eps) * nll + eps * mean over classes of -log p.
  const double eps = 0.1;
  const std::vector<float> lp = log_softmax(kLogits, 1).to_vector<float>();
  double expected = 0;
  for (int i = 0; i < 2; ++i) {
    double uniform = 0;
    for (int j = 0; j < 3; ++j) uniform -= lp[i * 3 + j] / 3.0;
    expected += ((1 - eps) * rows[i] + eps * uniform) / 2.0;
  }
  expect_close(nn::CrossEntropyLoss({.label_smoothing = eps})(kLogits, kLabels),
               {static_cast<float>(expected)});
  expect_error([] { nn::CrossEntropyLoss({.label_smoothing = 1.5}); },
               "CrossEntropyLoss: label_smoothing must be in [0, 1], got 1.5");
}

TEST(LossModules, NllOnLogProbabilities) {
  const std::vector<float> rows = nll_per_row(kLogits, {1, 2});
  expect_close(nn::NLLLoss()(log_softmax(kLogits, 1), kLabels), {(rows[0] + rows[1]) / 2});
  expect_close(nn::NLLLoss({.reduction = nn::Reduction::None})(log_softmax(kLogits, 1), kLabels),
               rows);
}

TEST(LossModules, MseAndBceWithLogits) {
  const Tensor a = Tensor::from_vector({1.0f, -2.0f, 0.5f}, {3});
  const Tensor b = Tensor::from_vector({0.0f, 1.0f, 0.5f}, {3});
  expect_close(nn::MSELoss()(a, b), {(1.0f + 9.0f + 0.0f) / 3});
  expect_close(nn::MSELoss({.reduction = nn::Reduction::Sum})(a, b), {10.0f});

  // -(t log s(x) + (1 - t) log(1 - s(x))), per element.
  std::vector<float> bce;
  for (int i = 0; i < 3; ++i) {
    const double x = a.to_vector<float>()[i], t = b.to_vector<float>()[i];
    const double s = 1.0 / (1.0 + std::exp(-x));
    bce.push_back(static_cast<float>(-(t * std::log(s) + (1 - t) * std::log(1 - s))));
  }
  expect_close(nn::BCEWithLogitsLoss({.reduction = nn::Reduction::None})(a, b), bce);
  // pos_weight multiplies the positive term.
  const Tensor pw = Tensor::from_vector({2.0f, 2.0f, 2.0f}, {3});
  const double s1 = 1.0 / (1.0 + std::exp(2.0));
  expect_close(
      nn::BCEWithLogitsLoss({.reduction = nn::Reduction::None, .pos_weight = pw})(a, b).select(0,
                                                                                               1),
      {static_cast<float>(-2.0 * std::log(s1))});
}

TEST(LossModules, GradientOfCrossEntropyThroughTheModule) {
  nn::CrossEntropyLoss loss({.label_smoothing = 0.05});
  nabla::testing::expect_gradients_match(
      [&](const std::vector<Tensor>& in) { return loss(in[0], kLabels); }, {kLogits});
}

TEST(LossModules, Print) {
  EXPECT_EQ(nn::MSELoss().str(), "MSELoss(reduction='mean')");
  EXPECT_EQ(nn::CrossEntropyLoss({.reduction = nn::Reduction::Sum}).str(),
            "CrossEntropyLoss(ignore_index=-100, reduction='sum', label_smoothing=0.0)");
}
