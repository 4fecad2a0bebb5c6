// batch_norm, layer_norm, group_norm, instance_norm: gradient checks (train and eval, with and
// without affine parameters), running statistics, PyTorch parity, errors.
#include <gtest/gtest.h>

#include "nabla/nn/functional.h"
#include "nn/functional_fixtures.h"

using namespace nabla;
namespace F = nabla::nn::functional;
using nabla::testing::expect_error;
using nabla::testing::expect_gradients_match;
using nabla::testing::expect_matches_fixture;
using nabla::testing::expect_tensor_close;
using nabla::testing::uniform;

namespace {
const Tensor kNone;
}

TEST(BatchNorm, GradientsTraining) {
  expect_gradients_match(
      [](const std::vector<Tensor>& in) {
        return F::batch_norm(in[0], kNone, kNone, in[1], in[2], true);
      },
      {uniform({4, 3, 2, 3}, -2, 2), uniform({3}, 0.5, 1.5, 2), uniform({3}, -1, 1, 3)});
}

TEST(BatchNorm, GradientsTrainingNoAffine2d) {
  expect_gradients_match(
      [](const std::vector<Tensor>& in) {
        return F::batch_norm(in[0], kNone, kNone, kNone, kNone, true);
      },
      {uniform({6, 3}, -2, 2)});
}

TEST(BatchNorm, GradientsEval) {
  const Tensor rm = uniform({3}, -0.5, 0.5, 4), rv = uniform({3}, 0.5, 1.5, 5);
  expect_gradients_match(
      [&](const std::vector<Tensor>& in) {
        return F::batch_norm(in[0], rm, rv, in[1], in[2], false);
      },
      {uniform({2, 3, 2, 2}, -2, 2), uniform({3}, 0.5, 1.5, 2), uniform({3}, -1, 1, 3)});
}

TEST(BatchNorm, RunningStatisticsUseUnbiasedVariance) {
  // One channel, values 1..4: mean 2.5, biased variance 1.25, unbiased 5/3.
  const Tensor x = Tensor::from_vector({1, 2, 3, 4}, {4, 1});
  Tensor rm = Tensor::zeros({1}), rv = Tensor::ones({1});
  F::batch_norm(x, rm, rv, kNone, kNone, true, 0.1);
  EXPECT_NEAR(rm.item<float>(), 0.25f, 1e-6);
  EXPECT_NEAR(rv.item<float>(), 0.9f + 0.1f * 5.0f / 3.0f, 1e-6);
}

TEST(LayerNorm, Gradients) {
  expect_gradients_match(
      [](const std::vector<Tensor>& in) {
        return F::layer_norm(in[0], {3, 4}, in[1], in[2]);
      },
      {uniform({2, 3, 4}, -2, 2), uniform({3, 4}, 0.5, 1.5, 2), uniform({3, 4}, -1, 1, 3)});
  expect_gradients_match([](const std::vector<Tensor>& in) { return F::layer_norm(in[0], {5}); },
                         {uniform({3, 5}, -2, 2)});
}

TEST(GroupNorm, Gradients) {
  expect_gradients_match(
      [](const std::vector<Tensor>& in) { return F::group_norm(in[0], 2, in[1], in[2]); },
      {uniform({2, 4, 2, 3}, -2, 2), uniform({4}, 0.5, 1.5, 2), uniform({4}, -1, 1, 3)});
  expect_gradients_match([](const std::vector<Tensor>& in) { return F::group_norm(in[0], 3); },
                         {uniform({2, 6, 4}, -2, 2)});
}

TEST(InstanceNorm, Gradients) {
  expect_gradients_match(
      [](const std::vector<Tensor>& in) {
        return F::instance_norm(in[0], kNone, kNone, in[1], in[2]);
      },
      {uniform({2, 3, 2, 3}, -2, 2), uniform({3}, 0.5, 1.5, 2), uniform({3}, -1, 1, 3)});
  const Tensor rm = uniform({3}, -0.5, 0.5, 4), rv = uniform({3}, 0.5, 1.5, 5);
  expect_gradients_match(
      [&](const std::vector<Tensor>& in) {
        return F::instance_norm(in[0], rm, rv, in[1], in[2], false);
      },
      {uniform({2, 3, 5}, -2, 2), uniform({3}, 0.5, 1.5, 2), uniform({3}, -1, 1, 3)});
}

TEST(Norm, MatchesPyTorch) {
  auto with_running = [](const std::string& name, auto fn) {
    // Runs on copies of the initial running statistics, then compares their updated values.
    nabla::testing::Fixture ref = nabla::testing::load_fixture(name);
    Tensor rm = ref["rm"].clone(), rv = ref["rv"].clone();
    expect_matches_fixture(name, [&](nabla::testing::Fixture& f) { return fn(f, rm, rv); });
    if (ref.count("rm_out")) {
      expect_tensor_close(rm, ref["rm_out"], name + " running_mean", 1e-4, 1e-5);
      expect_tensor_close(rv, ref["rv_out"], name + " running_var", 1e-4, 1e-5);
    }
  };
  with_running("batch_norm_train", [](auto& f, Tensor& rm, Tensor& rv) {
    return F::batch_norm(f["x"], rm, rv, f["w"], f["b"], true, 0.1);
  });
  with_running("batch_norm_eval", [](auto& f, Tensor& rm, Tensor& rv) {
    return F::batch_norm(f["x"], rm, rv, f["w"], f["b"], false);
  });
  with_running("instance_norm_train", [](auto& f, Tensor& rm, Tensor& rv) {
    return F::instance_norm(f["x"], rm, rv, f["w"], f["b"], true, 0.2);
  });
  with_running("instance_norm_eval", [](auto& f, Tensor& rm, Tensor& rv) {
    return F::instance_norm(f["x"], rm, rv, f["w"], f["b"], false);
  });
  expect_matches_fixture("batch_norm_2d_plain", [](auto& f) {
    return F::batch_norm(f["x"], kNone, kNone, kNone, kNone, true);
  });
  expect_matches_fixture("layer_norm", [](auto& f) {
    return F::layer_norm(f["x"], {4, 5}, f["w"], f["b"]);
  });
  expect_matches_fixture("layer_norm_plain",
                         [](auto& f) { return F::layer_norm(f["x"], {6}, kNone, kNone, 1e-3); });
  expect_matches_fixture("group_norm",
                         [](auto& f) { return F::group_norm(f["x"], 3, f["w"], f["b"]); });
}

TEST(Norm, Errors) {
  const Tensor x = Tensor::zeros({2, 3, 4});
  expect_error(
      [&] {
        F::batch_norm(Tensor::zeros({1, 3}), kNone, kNone, kNone, kNone, true);
      },
      "expected more than 1 value per channel when training");
  expect_error([&] { F::batch_norm(x, kNone, kNone, kNone, kNone, false); },
               "running_mean and running_var must be defined in evaluation mode");
  expect_error([&] { F::batch_norm(x, kNone, kNone, Tensor::ones({4}), kNone, true); },
               "expected weight of shape [3], got [4]");
  expect_error([&] { F::batch_norm(Tensor::zeros({3}), kNone, kNone, kNone, kNone, true); },
               "at least 2 dims");
  expect_error([&] { F::group_norm(x, 2); }, "divisible by num_groups 2");
  expect_error([&] { F::layer_norm(x, {3}); }, "does not end with normalized_shape [3]");
  expect_error(
      [&] {
        F::instance_norm(Tensor::zeros({2, 3, 1}));
      },
      "expected more than 1 spatial element");
  expect_error([&] { F::instance_norm(x, kNone, kNone, kNone, kNone, false); },
               "required when use_input_stats is false");
}
