// max_pool2d and avg_pool2d: gradient checks, PyTorch parity, errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "nabla/nn/functional.h"
#include "nn/functional_fixtures.h"

using namespace nabla;
namespace F = nabla::nn::functional;
using nabla::testing::expect_close;
using nabla::testing::expect_error;
using nabla::testing::expect_gradients_match;
using nabla::testing::expect_matches_fixture;
using nabla::testing::uniform;

namespace {

// Distinct values 0.05 apart in shuffled order, so that a finite-difference step never changes
// which element is the maximum.
Tensor distinct(const Shape& shape) {
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  std::iota(v.begin(), v.end(), 0.0f);
  std::shuffle(v.begin(), v.end(), std::mt19937(7));
  for (float& x : v) x = 0.05f * x - 1.0f;
  return Tensor::from_vector(v, shape);
}

}  // namespace

TEST(MaxPool2d, Gradients) {
  auto check = [](F::Pair k, F::Pair s, F::Pair p) {
    expect_gradients_match(
        [=](const std::vector<Tensor>& in) { return F::max_pool2d(in[0], k, s, p); },
        {distinct({2, 2, 5, 6})});
  };
  check({2, 2}, {0, 0}, {0, 0});
  check({3, 3}, {2, 2}, {1, 1});
  check({2, 3}, {1, 2}, {1, 0});  // overlapping windows
}

TEST(MaxPool2d, PaddingNeverWins) {
  // All-negative input: padding counts as -inf, so the border outputs stay negative.
  const Tensor x = Tensor::full({1, 1, 2, 2}, -3.0);
  expect_close(F::max_pool2d(x, {2, 2}, {1, 1}, {1, 1}), std::vector<float>(9, -3.0f));
}

TEST(AvgPool2d, Gradients) {
  auto check = [](F::Pair k, F::Pair s, F::Pair p, bool include) {
    expect_gradients_match(
        [=](const std::vector<Tensor>& in) { return F::avg_pool2d(in[0], k, s, p, include); },
        {uniform({2, 2, 5, 6}, -1, 1)});
  };
  check({2, 2}, {0, 0}, {0, 0}, true);
  check({3, 3}, {2, 2}, {1, 1}, true);
  check({3, 3}, {2, 2}, {1, 1}, false);
  check({2, 3}, {1, 2}, {1, 1}, false);
}

TEST(Pool2d, MatchesPyTorch) {
  expect_matches_fixture("max_pool2d_k2", [](auto& f) { return F::max_pool2d(f["x"], {2, 2}); });
  expect_matches_fixture("max_pool2d_k3s2p1", [](auto& f) {
    return F::max_pool2d(f["x"], {3, 3}, {2, 2}, {1, 1});
  });
  expect_matches_fixture("avg_pool2d_k3s2p1", [](auto& f) {
    return F::avg_pool2d(f["x"], {3, 3}, {2, 2}, {1, 1});
  });
  expect_matches_fixture("avg_pool2d_k3s2p1_nopad", [](auto& f) {
    return F::avg_pool2d(f["x"], {3, 3}, {2, 2}, {1, 1}, false);
  });
  expect_matches_fixture("avg_pool2d_rect", [](auto& f) {
    return F::avg_pool2d(f["x"], {2, 3}, {1, 2}, {1, 1}, false);
  });
}

TEST(Pool2d, Errors) {
  const Tensor x = Tensor::zeros({1, 2, 4, 4});
  expect_error(
      [&] {
        F::max_pool2d(Tensor::zeros({2, 4, 4}), {2, 2});
      },
      "expected a 4-D input (N, C, H, W), got shape [2, 4, 4]");
  expect_error([&] { F::max_pool2d(x, {5, 2}); }, "kernel (5, 2) is larger than the padded input");
  expect_error([&] { F::avg_pool2d(x, {2, 2}, {1, 1}, {2, 0}); }, "at most half the kernel size");
  expect_error([&] { F::avg_pool2d(x, {0, 2}); }, "kernel size must be positive");
  expect_error([&] { F::max_pool2d(x, {2, 2}, {-1, 1}); }, "stride must be positive");
}
