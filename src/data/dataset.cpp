// In-memory datasets, subsets and random splits.
#include "nabla/data/dataset.h"

#include <cstring>
#include <numeric>

#include "data/gather.h"
#include "nabla/error.h"

namespace nabla::data {
namespace detail {

Shape with_batch(int64_t batch, const Shape& sample) {
  std::vector<int64_t> dims{batch};
  dims.insert(dims.end(), sample.begin(), sample.end());
  return Shape(std::move(dims));
}

void check_batch_tensor(const Tensor& t, int64_t batch, const Shape& sample, DType dtype,
                        const char* what) {
  NABLA_CHECK(t.defined() && t.is_cpu() && t.is_contiguous() && t.dtype() == dtype &&
                  t.shape() == with_batch(batch, sample),
              "Dataset::gather: {} must be a contiguous CPU {} tensor of shape {}, got {}", what,
              dtype_name(dtype), with_batch(batch, sample).str(),
              t.defined() ? fmt::format("{} {} on {}", dtype_name(t.dtype()), t.shape().str(),
                                        t.device().str())
                          : std::string("an undefined tensor"));
}

}  // namespace detail

namespace {

using detail::check_batch_tensor;
using detail::with_batch;

Shape sample_shape(const Tensor& t) {
  return Shape(std::vector<int64_t>(t.shape().begin() + 1, t.shape().end()));
}

// Copies rows `indices` of the contiguous (N, ...) tensor `src` into rows 0.. of `dst`.
void gather_rows(const Tensor& src, std::span<const int64_t> indices, const Tensor& dst) {
  const int64_t n = src.size(0);
  const std::size_t row_bytes = static_cast<std::size_t>(src.numel() / n) * dtype_size(src.dtype());
  const auto* from = static_cast<const uint8_t*>(src.raw_data());
  auto* to = static_cast<uint8_t*>(dst.raw_data());
  detail::for_each_row(
      indices, n, [&](int64_t k) { detail::prefetch_bytes(from + k * row_bytes, row_bytes); },
      [&](std::size_t i, int64_t k) {
        std::memcpy(to + i * row_bytes, from + k * row_bytes, row_bytes);
      });
}

}  // namespace

Batch Dataset::get_batch(std::span<const int64_t> indices) const {
  const SampleLayout l = layout();
  const auto b = static_cast<int64_t>(indices.size());
  Batch batch{Tensor::empty(with_batch(b, l.input_shape), {.dtype = l.input_dtype}),
              Tensor::empty(with_batch(b, l.target_shape), {.dtype = l.target_dtype})};
  gather(indices, batch.inputs, batch.targets);
  return batch;
}

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) {
  NABLA_CHECK(inputs.defined() && targets.defined(), "TensorDataset: undefined tensor");
  NABLA_CHECK(inputs.is_cpu() && targets.is_cpu(),
              "TensorDataset: tensors must be on the CPU (inputs on {}, targets on {})",
              inputs.device().str(), targets.device().str());
  NABLA_CHECK(inputs.dim() >= 1 && targets.dim() >= 1,
              "TensorDataset: inputs and targets need a sample dimension (got {} and {})",
              inputs.shape().str(), targets.shape().str());
  NABLA_CHECK(inputs.size(0) == targets.size(0),
              "TensorDataset: inputs have {} samples but targets have {}", inputs.size(0),
              targets.size(0));
  inputs_ = inputs.detach().contiguous();
  targets_ = targets.detach().contiguous();
}

SampleLayout TensorDataset::layout() const {
  return {sample_shape(inputs_), inputs_.dtype(), sample_shape(targets_), targets_.dtype()};
}

void TensorDataset::gather(std::span<const int64_t> indices, const Tensor& inputs,
                           const Tensor& targets) const {
  const auto b = static_cast<int64_t>(indices.size());
  check_batch_tensor(inputs, b, sample_shape(inputs_), inputs_.dtype(), "inputs");
  check_batch_tensor(targets, b, sample_shape(targets_), targets_.dtype(), "targets");
  gather_rows(inputs_, indices, inputs);
  gather_rows(targets_, indices, targets);
}

Subset::Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices)
    : dataset_(std::move(dataset)), indices_(std::move(indices)) {
  NABLA_CHECK(dataset_ != nullptr, "Subset: null dataset");
  const int64_t n = dataset_->size();
  for (int64_t k : indices_)
    NABLA_CHECK(k >= 0 && k < n, "Subset: index {} is out of range for a dataset of {} samples", k,
                n);
}

void Subset::gather(std::span<const int64_t> indices, const Tensor& inputs,
                    const Tensor& targets) const {
  std::vector<int64_t> mapped(indices.size());  // one small allocation per batch
  const int64_t n = size();
  for (std::size_t i = 0; i < indices.size(); ++i) {
    NABLA_CHECK(indices[i] >= 0 && indices[i] < n,
                "Subset::gather: index {} is out of range for {} samples", indices[i], n);
    mapped[i] = indices_[indices[i]];
  }
  dataset_->gather(mapped, inputs, targets);
}

std::vector<int64_t> random_permutation(int64_t n, Generator& gen) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[i], order[gen.random_below(static_cast<uint64_t>(i) + 1)]);
  return order;
}

std::vector<std::vector<int64_t>> random_split_indices(int64_t n,
                                                       const std::vector<int64_t>& lengths,
                                                       uint64_t seed) {
  int64_t total = 0;
  for (int64_t l : lengths) {
    NABLA_CHECK(l >= 0, "random_split: negative length {}", l);
    total += l;
  }
  NABLA_CHECK(total == n, "random_split: lengths sum to {} but the dataset has {} samples", total,
              n);
  Generator gen(seed);
  const std::vector<int64_t> order = random_permutation(n, gen);
  std::vector<std::vector<int64_t>> parts;
  auto at = order.begin();
  for (int64_t l : lengths) {
    parts.emplace_back(at, at + l);
    at += l;
  }
  return parts;
}

std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset,
                                 const std::vector<int64_t>& lengths, uint64_t seed) {
  NABLA_CHECK(dataset != nullptr, "random_split: null dataset");
  std::vector<Subset> subsets;
  for (auto& part : random_split_indices(dataset->size(), lengths, seed))
    subsets.emplace_back(dataset, std::move(part));
  return subsets;
}

std::vector<Subset> random_split(const Dataset& dataset, const std::vector<int64_t>& lengths,
                                 uint64_t seed) {
  // A non-owning handle: the caller keeps the dataset alive.
  return random_split(std::shared_ptr<const Dataset>(&dataset, [](const Dataset*) {}), lengths,
                      seed);
}

}  // namespace nabla::data
