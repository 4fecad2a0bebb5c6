// DataLoader: minibatches of a Dataset, in an order that is a pure function of (seed, epoch),
// with a saveable position so that training can resume in the middle of an epoch.
//
//   data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 1});
//   for (int64_t e = 0; e < epochs; ++e) {
//     loader.set_epoch(e);
//     for (data::Batch& batch : loader) { ... batch.inputs, batch.targets ... }
//   }
//
// Position. The loader is at (epoch, batch_index), the next batch it will hand out. next()
// returns that batch and advances; after the last batch of an epoch it returns std::nullopt
// once and moves to (epoch + 1, 0). A range-for runs next() to that end, so it continues a
// partly consumed epoch, and consecutive loops without set_epoch() see consecutive epochs.
// state_dict() saves the position (and the settings that determine the order, which
// load_state_dict() checks), so a fresh loader resumes exactly where the saved one stopped.
//
// Order. With shuffle, epoch e is a Fisher-Yates permutation drawn from a nabla::Generator
// keyed by a hash of (seed, e); without, it is 0..N-1. Batch k holds the samples at positions
// [k * batch_size, (k + 1) * batch_size) of that order; the last one may be smaller unless
// drop_last.
//
// Memory. Batches are gathered row by row into a few reusable batch buffers; a buffer is
// reused only once every tensor viewing it has been released, so a batch a caller keeps is
// never overwritten. With pin_memory and a usable CUDA device the buffers are page-locked, so
// copies to the GPU run by DMA; without CUDA, pin_memory has no effect (plain host memory).
// With resident_on, the whole dataset is copied to that device once, at construction, and each
// batch is gathered there by the epoch's order (uploaded once per epoch): the same batches, as
// tensors on that device, with no host work per batch. For data that fits (MNIST's training set
// is 188 MB as float32); pin_memory and prefetch then have no effect.
//
// Prefetch. With prefetch, one background thread gathers up to two batches ahead. Batches are
// identical with and without it; an exception in the thread is rethrown by next(), and the
// destructor, set_epoch() and load_state_dict() stop the thread cleanly.
#pragma once

#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "nabla/data/dataset.h"
#include "nabla/device.h"
#include "nabla/state.h"

namespace nabla::data {

// Field order follows torch.utils.data.DataLoader's arguments; seed and prefetch are ours.
struct DataLoaderConfig {
  int64_t batch_size = 1;
  bool shuffle = false;
  bool pin_memory = false;
  bool drop_last = false;
  uint64_t seed = 0;
  bool prefetch = false;
  std::optional<Device> resident_on = std::nullopt;
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderConfig config = {});
  // For a dataset owned elsewhere, which must outlive the loader.
  DataLoader(const Dataset& dataset, DataLoaderConfig config = {});
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int64_t num_batches() const;  // per epoch
  int64_t epoch() const;
  int64_t batch_index() const;    // of the next batch
  void set_epoch(int64_t epoch);  // moves to (epoch, 0)
  std::optional<Batch> next();

  // The sample order of an epoch (a pure function of seed and epoch).
  std::vector<int64_t> epoch_order(int64_t epoch) const;

  // "epoch", "batch_index", and the settings a resumed run must keep: "dataset_size",
  // "batch_size", "shuffle", "drop_last", "seed" (a decimal string).
  State state_dict() const;
  void load_state_dict(const State& state);

  const DataLoaderConfig& config() const;
  const Dataset& dataset() const;

  // Input iterator over the rest of the current epoch (see "Position" above).
  class Iterator {
   public:
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    explicit Iterator(DataLoader* loader) : loader_(loader), batch_(loader->next()) {}
    Batch& operator*() { return *batch_; }
    Batch* operator->() { return &*batch_; }
    Iterator& operator++() {
      batch_.reset();  // release the buffer before the next gather
      batch_ = loader_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !batch_.has_value(); }

   private:
    DataLoader* loader_;
    std::optional<Batch> batch_;
  };
  Iterator begin() { return Iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nabla::data
