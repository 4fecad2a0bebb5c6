// Datasets: a sized collection of (input, target) samples that can copy any set of samples
// into preallocated batch tensors in one call. Implementations here keep everything in memory.
//
//   data::TensorDataset ds(inputs, targets);         // (N, ...) and (N, ...) CPU tensors
//   std::vector<data::Subset> parts = data::random_split(ds, {50000, 10000}, /*seed=*/0);
//   data::Batch b = ds.get_batch(std::vector<int64_t>{3, 1, 4});
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::data {

struct Batch {
  Tensor inputs;   // (B, input_shape...)
  Tensor targets;  // (B, target_shape...)
};

// Shape and dtype of one sample (without the batch dimension).
struct SampleLayout {
  Shape input_shape;
  DType input_dtype = DType::Float32;
  Shape target_shape;
  DType target_dtype = DType::Int64;
};

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  virtual SampleLayout layout() const = 0;
  // Copies samples indices[0..B) into rows 0..B of `inputs` and `targets`: contiguous CPU
  // tensors of shapes (B, input_shape...) and (B, target_shape...) with the layout's dtypes.
  // Throws when an index is outside [0, size()).
  virtual void gather(std::span<const int64_t> indices, const Tensor& inputs,
                      const Tensor& targets) const = 0;

  // gather() into newly allocated tensors.
  Batch get_batch(std::span<const int64_t> indices) const;

  // What the data is, by content, as a JSON object (for MNIST: the dataset, both files' SHA-256
  // digests and the input normalisation). A checkpoint records the training set's, and resuming
  // on data with another identity is an error. Empty for data that cannot name itself.
  virtual std::string identity() const { return ""; }
};

// Inputs and targets held in memory: CPU tensors whose first dimension indexes samples.
class TensorDataset : public Dataset {
 public:
  // Both are made contiguous; they must be on the CPU and have the same first dimension.
  TensorDataset(Tensor inputs, Tensor targets);

  int64_t size() const override { return inputs_.size(0); }
  SampleLayout layout() const override;
  void gather(std::span<const int64_t> indices, const Tensor& inputs,
              const Tensor& targets) const override;

  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor inputs_, targets_;
};

// The samples of `dataset` at `indices`, in that order. Shares (does not copy) the dataset.
class Subset : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices);

  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  SampleLayout layout() const override { return dataset_->layout(); }
  void gather(std::span<const int64_t> indices, const Tensor& inputs,
              const Tensor& targets) const override;

  const std::vector<int64_t>& indices() const { return indices_; }
  const Dataset& dataset() const { return *dataset_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  std::vector<int64_t> indices_;
};

// A random permutation of 0..n-1 split into consecutive parts of the given lengths (which must
// sum to n); a pure function of (n, lengths, seed).
std::vector<std::vector<int64_t>> random_split_indices(int64_t n,
                                                       const std::vector<int64_t>& lengths,
                                                       uint64_t seed);
// The same split as Subsets of `dataset` (as torch.utils.data.random_split).
std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset,
                                 const std::vector<int64_t>& lengths, uint64_t seed);
// For a dataset owned elsewhere, which must outlive the Subsets.
std::vector<Subset> random_split(const Dataset& dataset, const std::vector<int64_t>& lengths,
                                 uint64_t seed);

// Fisher-Yates shuffle of 0..n-1 driven by `gen`.
std::vector<int64_t> random_permutation(int64_t n, Generator& gen);

}  // namespace nabla::data
