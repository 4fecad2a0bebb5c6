// conv2d: gradient checks for every option that changes a code path, PyTorch parity, errors.
#include <gtest/gtest.h>

#include "nabla/nn/functional.h"
#include "nn/functional_fixtures.h"

using namespace nabla;
namespace F = nabla::nn::functional;
using nabla::testing::expect_error;
using nabla::testing::expect_gradients_match;
using nabla::testing::expect_matches_fixture;
using nabla::testing::uniform;

namespace {

// Checks dx, dweight and dbias (when given) of conv2d with these options.
void check_conv_gradients(Shape x, Shape w, bool bias, const F::Conv2dOptions& o) {
  std::vector<Tensor> inputs{uniform(x, -1, 1, 1), uniform(w, -1, 1, 2)};
  if (bias) inputs.push_back(uniform({w[0]}, -1, 1, 3));
  expect_gradients_match(
      [o](const std::vector<Tensor>& in) {
        return F::conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), o);
      },
      inputs);
}

}  // namespace

TEST(Conv2d, GradientsDefault) {
  check_conv_gradients({2, 3, 5, 4}, {2, 3, 3, 2}, true, {});
}
TEST(Conv2d, GradientsStride2Padding) {
  check_conv_gradients({1, 2, 6, 5}, {3, 2, 3, 3}, true, {.stride = {2, 2}, .padding = {1, 1}});
}
TEST(Conv2d, GradientsDilation2) {
  check_conv_gradients({1, 2, 6, 6}, {2, 2, 2, 3}, true, {.padding = {1, 2}, .dilation = {2, 2}});
}
TEST(Conv2d, GradientsGroups2NoBias) {
  check_conv_gradients({2, 4, 4, 5}, {4, 2, 3, 3}, false, {.stride = {1, 2}, .groups = 2});
}

TEST(Conv2d, MatchesPyTorch) {
  expect_matches_fixture("conv2d_basic", [](auto& f) { return F::conv2d(f["x"], f["w"], f["b"]); });
  expect_matches_fixture("conv2d_stride2_pad1", [](auto& f) {
    return F::conv2d(f["x"], f["w"], f["b"], {.stride = {2, 2}, .padding = {1, 1}});
  });
  expect_matches_fixture("conv2d_dilation2", [](auto& f) {
    return F::conv2d(f["x"], f["w"], f["b"], {.padding = {2, 1}, .dilation = {2, 2}});
  });
  expect_matches_fixture("conv2d_groups2", [](auto& f) {
    return F::conv2d(f["x"], f["w"], Tensor(), {.stride = {1, 2}, .groups = 2});
  });
}

TEST(Conv2d, NonContiguousInput) {
  // A transposed view gives the same result as its contiguous copy.
  const Tensor x = uniform({1, 2, 5, 4}, -1, 1, 4), w = uniform({3, 2, 3, 3}, -1, 1, 5);
  const Tensor xt = x.transpose(2, 3);
  EXPECT_TRUE(allclose(F::conv2d(xt, w), F::conv2d(xt.contiguous(), w)));
}

TEST(Conv2d, Errors) {
  const Tensor w = Tensor::zeros({4, 3, 3, 3});
  expect_error(
      [&] {
        F::conv2d(Tensor::zeros({3, 5, 5}), w);
      },
      "expected a 4-D input (N, C_in, H, W), got shape [3, 5, 5]");
  expect_error(
      [&] {
        F::conv2d(Tensor::zeros({2, 4, 5, 5}), w);
      },
      "input of shape [2, 4, 5, 5] has 4 channels, but weight of shape [4, 3, 3, 3] with "
      "groups=1 expects 3 channels");
  expect_error(
      [&] {
        F::conv2d(Tensor::zeros({1, 3, 5, 5}), Tensor::zeros({4, 3, 3}));
      },
      "expected a 4-D weight");
  expect_error([&] { F::conv2d(Tensor::zeros({1, 3, 2, 2}), w); }, "smaller than the");
  expect_error(
      [&] {
        F::conv2d(Tensor::zeros({1, 3, 5, 5}), w, Tensor::zeros({3}));
      },
      "expected bias of shape [4], got [3]");
  expect_error(
      [&] {
        F::conv2d(Tensor::zeros({1, 6, 5, 5}), Tensor::zeros({3, 3, 3, 3}), {}, {.groups = 2});
      },
      "divisible by groups 2");
  expect_error(
      [&] {
        F::conv2d(Tensor::zeros({1, 3, 5, 5}), w, {}, {.stride = {0, 1}});
      },
      "stride must be positive");
}

TEST(Conv2d, GradientsThroughASmallNetwork) {
  // conv -> batch norm -> max pool -> conv (weight reused) -> cross-entropy, one graph.
  const Tensor target = Tensor::from_vector(std::vector<int64_t>{1, 0}, {2});
  expect_gradients_match(
      [&](const std::vector<Tensor>& in) {
        Tensor h = F::conv2d(in[0], in[1], in[2], {.padding = {1, 1}});
        h = F::batch_norm(h, Tensor(), Tensor(), Tensor(), Tensor(), true);
        h = F::max_pool2d(h, {2, 2});
        h = F::conv2d(h, in[1], in[2]);  // (2, 2, 1, 1)
        return F::cross_entropy(h.flatten(1), target);
      },
      {uniform({2, 2, 6, 6}, -1, 1, 1), uniform({2, 2, 3, 3}, -1, 1, 2), uniform({2}, -1, 1, 3)});
}
