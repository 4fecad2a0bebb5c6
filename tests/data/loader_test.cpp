// DataLoader: the order as a pure function of (seed, epoch), drop_last, resuming from a saved
// position, prefetch (identical batches, exceptions, shutdown), device-resident data (identical
// batches) and batches that stay intact.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "nabla/data/loader.h"
#include "support/gradcheck.h"

namespace nabla::data {
namespace {

using testing::expect_error;

// Sample i has inputs (i, -i) and target i, so a batch tells which samples it holds.
std::shared_ptr<TensorDataset> make_dataset(int64_t n) {
  std::vector<float> x;
  std::vector<int64_t> y(n);
  for (int64_t i = 0; i < n; ++i) x.push_back(static_cast<float>(i)), x.push_back(-float(i));
  std::iota(y.begin(), y.end(), 0);
  return std::make_shared<TensorDataset>(Tensor::from_vector(x, {n, 2}),
                                         Tensor::from_vector(y, {n}));
}

// The targets of each remaining batch of the current epoch, checking inputs agree.
std::vector<std::vector<int64_t>> drain_epoch(DataLoader& loader) {
  std::vector<std::vector<int64_t>> out;
  for (Batch& b : loader) {
    const std::vector<int64_t> t = b.targets.to_vector<int64_t>();
    const std::vector<float> x = b.inputs.to_vector<float>();
    EXPECT_EQ(b.inputs.shape(), (Shape{static_cast<int64_t>(t.size()), 2}));
    for (std::size_t i = 0; i < t.size(); ++i) EXPECT_EQ(x[2 * i], static_cast<float>(t[i]));
    out.push_back(t);
  }
  return out;
}

std::vector<int64_t> flatten(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  return all;
}

TEST(DataLoader, SameSeedAndEpochGiveTheSameOrder) {
  auto ds = make_dataset(50);
  DataLoader a(ds, {.batch_size = 8, .shuffle = true, .seed = 3});
  DataLoader b(ds, {.batch_size = 8, .shuffle = true, .seed = 3});
  a.set_epoch(2), b.set_epoch(2);
  const auto batches = drain_epoch(a);
  EXPECT_EQ(batches, drain_epoch(b));
  EXPECT_EQ(flatten(batches), a.epoch_order(2));
  EXPECT_NE(a.epoch_order(2), a.epoch_order(3));
  DataLoader c(ds, {.batch_size = 8, .shuffle = true, .seed = 4});
  EXPECT_NE(a.epoch_order(2), c.epoch_order(2));
}

TEST(DataLoader, EveryIndexOncePerEpoch) {
  auto ds = make_dataset(37);
  DataLoader loader(ds, {.batch_size = 5, .shuffle = true, .seed = 11});
  std::vector<int64_t> expected(37);
  std::iota(expected.begin(), expected.end(), 0);
  for (int64_t e = 0; e < 4; ++e) {
    loader.set_epoch(e);
    std::vector<int64_t> all = flatten(drain_epoch(loader));
    EXPECT_NE(all, expected) << "epoch " << e << " is not shuffled";
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, expected) << "epoch " << e;
  }
}

TEST(DataLoader, NoShuffleIsSequential) {
  DataLoader loader(make_dataset(7), {.batch_size = 3});
  EXPECT_EQ(drain_epoch(loader), (std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4, 5}, {6}}));
}

TEST(DataLoader, DropLast) {
  auto ds = make_dataset(10);
  DataLoader keep(ds, {.batch_size = 3, .shuffle = true});
  DataLoader drop(ds, {.batch_size = 3, .shuffle = true, .drop_last = true});
  EXPECT_EQ(keep.num_batches(), 4);
  EXPECT_EQ(drop.num_batches(), 3);
  const auto kept = drain_epoch(keep), dropped = drain_epoch(drop);
  ASSERT_EQ(kept.size(), 4u);
  ASSERT_EQ(dropped.size(), 3u);
  EXPECT_EQ(kept.back().size(), 1u);
  for (const auto& b : dropped) EXPECT_EQ(b.size(), 3u);
  // The order does not depend on drop_last: the dropped samples are the last ones.
  const std::vector<int64_t> all = flatten(kept);
  EXPECT_EQ(flatten(dropped), std::vector<int64_t>(all.begin(), all.begin() + 9));
}

TEST(DataLoader, ConsecutiveLoopsAreConsecutiveEpochs) {
  auto ds = make_dataset(12);
  DataLoader loader(ds, {.batch_size = 4, .shuffle = true, .seed = 5});
  EXPECT_EQ(flatten(drain_epoch(loader)), loader.epoch_order(0));
  EXPECT_EQ(loader.epoch(), 1);
  EXPECT_EQ(loader.batch_index(), 0);
  EXPECT_EQ(flatten(drain_epoch(loader)), loader.epoch_order(1));
  // next() after the last batch: one nullopt, then the next
  // epoch.
  loader.set_epoch(7);
  for (int64_t k = 0; k < 3; ++k) ASSERT_TRUE(loader.next().has_value());
  EXPECT_EQ(loader.batch_index(), 3);
  EXPECT_FALSE(loader.next().has_value());
  EXPECT_EQ(loader.epoch(), 8);
}

// Runs `epochs` epochs, saving the state after batch `stop` of
// epoch 1; a fresh loader that loads it must produce exactly the
// batches the first one produced from there on.
void check_resume(bool prefetch_before, bool prefetch_after, int64_t stop) {
  auto ds = make_dataset(23);
  const DataLoaderConfig config{.batch_size = 4, .shuffle = true, .seed = 9};
  DataLoaderConfig before = config, after = config;
  before.prefetch = prefetch_before, after.prefetch = prefetch_after;

  DataLoader full(ds, before);
  drain_epoch(full);
  for (int64_t k = 0; k < stop; ++k) ASSERT_TRUE(full.next().has_value());
  const State saved = full.state_dict();
  std::vector<std::vector<int64_t>> expected = drain_epoch(full);
  for (const auto& b : drain_epoch(full)) expected.push_back(b);  // epoch 2

  DataLoader resumed(ds, after);
  resumed.load_state_dict(saved);
  EXPECT_EQ(resumed.epoch(), 1);
  EXPECT_EQ(resumed.batch_index(), stop);
  std::vector<std::vector<int64_t>> got = drain_epoch(resumed);
  for (const auto& b : drain_epoch(resumed)) got.push_back(b);
  EXPECT_EQ(got, expected);
}

TEST(DataLoader, ResumeMidEpoch) {
  for (int64_t stop : {0, 1, 3, 6}) {  // 6 = after the last batch of the epoch
    SCOPED_TRACE(stop);
    check_resume(false, false, stop);
    check_resume(true, true, stop);
    check_resume(false, true, stop);
  }
}

TEST(DataLoader, LoadStateChecksSettings) {
  auto ds = make_dataset(20);
  DataLoader a(ds, {.batch_size = 4, .shuffle = true, .seed = 1});
  const State s = a.state_dict();
  DataLoader other_batch(ds, {.batch_size = 5, .shuffle = true, .seed = 1});
  expect_error([&] { other_batch.load_state_dict(s); }, "batch_size = 4, this one has 5");
  DataLoader other_seed(ds, {.batch_size = 4, .shuffle = true, .seed = 2});
  expect_error([&] { other_seed.load_state_dict(s); }, "seed 1, this one has 2");
  DataLoader other_data(make_dataset(21), {.batch_size = 4, .shuffle = true, .seed = 1});
  expect_error([&] { other_data.load_state_dict(s); }, "dataset_size = 20, this one has 21");
  State bad = s;
  bad.scalars["batch_index"] = 6;
  expect_error([&] { a.load_state_dict(bad); }, "invalid batch_index 6");
  bad.scalars.erase("epoch");
  expect_error([&] { a.load_state_dict(bad); }, "no value 'epoch'");
}

TEST(DataLoader, PrefetchGivesIdenticalBatches) {
  auto ds = make_dataset(101);
  for (bool drop_last : {false, true}) {
    DataLoader plain(ds, {.batch_size = 8, .shuffle = true, .drop_last = drop_last, .seed = 2});
    DataLoader ahead(
        ds,
        {.batch_size = 8, .shuffle = true, .drop_last = drop_last, .seed = 2, .prefetch = true});
    for (int e = 0; e < 3; ++e) EXPECT_EQ(drain_epoch(plain), drain_epoch(ahead));
  }
}

// The device-resident path (here the CPU's: the same row gather a GPU runs) gives the batches of
// the host path, input rows included, and resumes from the same saved position.
TEST(DataLoader, ResidentDataGivesIdenticalBatches) {
  auto ds = make_dataset(101);
  for (bool shuffle : {false, true})
    for (bool drop_last : {false, true}) {
      SCOPED_TRACE(fmt::format("shuffle {} drop_last {}", shuffle, drop_last));
      const DataLoaderConfig config{
          .batch_size = 8, .shuffle = shuffle, .drop_last = drop_last, .seed = 2};
      DataLoaderConfig on_device = config;
      on_device.resident_on = Device::cpu();
      DataLoader plain(ds, config), resident(ds, on_device);
      for (int e = 0; e < 3; ++e) EXPECT_EQ(drain_epoch(plain), drain_epoch(resident));
      plain.set_epoch(5);
      for (int k = 0; k < 3; ++k) plain.next();
      DataLoader resumed(ds, on_device);
      resumed.load_state_dict(plain.state_dict());
      EXPECT_EQ(drain_epoch(plain), drain_epoch(resumed));
    }
}

TEST(DataLoader, KeptBatchesAreNeverOverwritten) {
  // Holding every batch of an epoch uses more buffers than the
  // pool keeps.
  auto ds = make_dataset(40);
  for (bool prefetch : {false, true}) {
    DataLoader loader(ds, {.batch_size = 3, .shuffle = true, .seed = 1, .prefetch = prefetch});
    std::vector<Batch> kept;
    while (auto b = loader.next()) kept.push_back(*b);
    std::vector<int64_t> all;
    for (const Batch& b : kept) {
      const auto t = b.targets.to_vector<int64_t>();
      all.insert(all.end(), t.begin(), t.end());
    }
    EXPECT_EQ(all, loader.epoch_order(0));
  }
}

// A dataset whose gather fails at one sample.
class FailingDataset : public TensorDataset {
 public:
  FailingDataset() : TensorDataset(Tensor::zeros({10, 1}), Tensor::zeros({10}, {DType::Int64})) {}
  void gather(std::span<const int64_t> indices, const Tensor& inputs,
              const Tensor& targets) const override {
    for (int64_t i : indices) NABLA_CHECK(i != 7, "cannot read sample {}", i);
    TensorDataset::gather(indices, inputs, targets);
  }
};

TEST(DataLoader, PrefetchPropagatesExceptions) {
  FailingDataset ds;
  DataLoader loader(ds, {.batch_size = 2, .prefetch = true});
  ASSERT_TRUE(loader.next().has_value());  // samples 0, 1
  ASSERT_TRUE(loader.next().has_value());
  ASSERT_TRUE(loader.next().has_value());
  expect_error([&] { loader.next(); }, "cannot read sample 7");
  EXPECT_EQ(loader.batch_index(),
            3);  // the failed batch was not consumed
  expect_error([&] { loader.next(); }, "cannot read sample 7");
  loader.set_epoch(1);
  EXPECT_TRUE(loader.next().has_value());
}

TEST(DataLoader, DestroyWhilePrefetching) {
  auto ds = make_dataset(1000);
  for (int i = 0; i < 20; ++i) {
    DataLoader loader(ds, {.batch_size = 1, .shuffle = true, .prefetch = true});
    ASSERT_TRUE(loader.next().has_value());
  }  // the worker is blocked on a full queue here; the destructor
     // must stop it
}

TEST(DataLoader, PinMemoryWithoutCudaIsPlainMemory) {
  auto ds = make_dataset(9);
  DataLoader pinned(ds, {.batch_size = 4, .shuffle = true, .pin_memory = true});
  DataLoader plain(ds, {.batch_size = 4, .shuffle = true});
  EXPECT_EQ(drain_epoch(pinned), drain_epoch(plain));
}

TEST(DataLoader, InvalidConfig) {
  expect_error([] { DataLoader(make_dataset(3), {.batch_size = 0}); },
               "batch_size must be positive");
}

}  // namespace
}  // namespace nabla::data
