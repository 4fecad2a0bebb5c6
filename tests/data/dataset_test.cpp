// TensorDataset, Subset and random_split.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "nabla/data/dataset.h"
#include "support/gradcheck.h"

namespace nabla::data {
namespace {

using testing::expect_error;

// Sample i has inputs (i, 10 i) and target 100 + i.
TensorDataset make_dataset(int64_t n) {
  std::vector<float> x;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < n; ++i) {
    x.push_back(static_cast<float>(i));
    x.push_back(static_cast<float>(10 * i));
    y.push_back(100 + i);
  }
  return TensorDataset(Tensor::from_vector(x, {n, 2}), Tensor::from_vector(y, {n}));
}

TEST(TensorDataset, GathersRowsInOrder) {
  const TensorDataset ds = make_dataset(6);
  EXPECT_EQ(ds.size(), 6);
  const SampleLayout l = ds.layout();
  EXPECT_EQ(l.input_shape, (Shape{2}));
  EXPECT_EQ(l.target_shape, Shape{});
  EXPECT_EQ(l.target_dtype, DType::Int64);
  const std::vector<int64_t> idx{4, 0, 4};
  const Batch b = ds.get_batch(idx);
  EXPECT_EQ(b.inputs.shape(), (Shape{3, 2}));
  EXPECT_EQ(b.inputs.to_vector<float>(), (std::vector<float>{4, 40, 0, 0, 4, 40}));
  EXPECT_EQ(b.targets.to_vector<int64_t>(), (std::vector<int64_t>{104, 100, 104}));
}

TEST(TensorDataset, Errors) {
  expect_error(
      [] {
        TensorDataset(Tensor::zeros({3, 2}), Tensor::zeros({4}));
      },
      "inputs have 3 samples but targets have 4");
  const TensorDataset ds = make_dataset(3);
  expect_error([&] { ds.get_batch(std::vector<int64_t>{0, 3}); }, "index 3 is out of range");
  expect_error([&] { ds.get_batch(std::vector<int64_t>{-1}); }, "index -1 is out of range");
  const std::vector<int64_t> idx{0, 1};
  expect_error(
      [&] {
        ds.gather(idx, Tensor::empty({3, 2}), Tensor::empty({2}, {DType::Int64}));
      },
      "inputs must be a contiguous CPU float32 tensor of shape [2, 2]");
}

TEST(Subset, MapsIndicesAndChecksRange) {
  auto ds = std::make_shared<TensorDataset>(make_dataset(5));
  const Subset sub(ds, {3, 1});
  EXPECT_EQ(sub.size(), 2);
  EXPECT_EQ(sub.get_batch(std::vector<int64_t>{1, 0}).targets.to_vector<int64_t>(),
            (std::vector<int64_t>{101, 103}));
  expect_error([&] { sub.get_batch(std::vector<int64_t>{2}); }, "index 2 is out of range");
  expect_error([&] { Subset(ds, {5}); }, "index 5 is out of range for a dataset of 5 samples");
}

TEST(RandomSplit, DeterministicDisjointAndComplete) {
  const auto a = random_split_indices(100, {70, 20, 10}, 7);
  EXPECT_EQ(a, random_split_indices(100, {70, 20, 10}, 7));
  EXPECT_NE(a, random_split_indices(100, {70, 20, 10}, 8));
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].size(), 70u);
  EXPECT_EQ(a[1].size(), 20u);
  EXPECT_EQ(a[2].size(), 10u);
  std::vector<int64_t> all;
  for (const auto& part : a) all.insert(all.end(), part.begin(), part.end());
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(100);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
  expect_error([] { random_split_indices(10, {5, 4}, 0); }, "lengths sum to 9");
}

TEST(RandomSplit, SubsetsOfADataset) {
  const TensorDataset ds = make_dataset(10);
  const std::vector<Subset> parts = random_split(ds, {8, 2}, 3);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].indices(), random_split_indices(10, {8, 2}, 3)[0]);
  const int64_t k = parts[1].indices()[0];
  EXPECT_EQ(parts[1].get_batch(std::vector<int64_t>{0}).targets.to_vector<int64_t>(),
            (std::vector<int64_t>{100 + k}));
}

}  // namespace
}  // namespace nabla::data
