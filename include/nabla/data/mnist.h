// MNIST-format datasets (MNIST, Fashion-MNIST, and others with the same four files) loaded
// from a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each raw or with a .gz suffix.
//
//   data::MNIST train(data::kFashionMNISTDir, data::Split::Train,
//                     data::Normalize::fashion_mnist());
//   train.images();  // float32 (60000, 1, 28, 28): pixels / 255, then normalised
//   train.labels();  // int64 (60000), in [0, 10)
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "nabla/data/dataset.h"

namespace nabla::data {

enum class Split { Train, Test };

// Where Debian's dataset-fashion-mnist package installs Fashion-MNIST.
inline constexpr const char* kFashionMNISTDir = "/usr/share/datasets/fashion-mnist";

// x -> (x - mean) / std, applied after scaling pixels to [0, 1].
struct Normalize {
  float mean = 0.0f;
  float std = 1.0f;
  // The usual statistics of the training sets.
  static Normalize mnist() { return {0.1307f, 0.3081f}; }
  static Normalize fashion_mnist() { return {0.2860f, 0.3530f}; }
};

// Which MNIST-format folder a program should use: `preferred` when given (it must hold the
// files), else data/mnist when it holds real MNIST, else Debian's Fashion-MNIST. Throws a
// nabla::Error saying how to get a dataset when none is there.
struct MnistSource {
  std::filesystem::path dir;
  std::string name;  // "MNIST", "Fashion-MNIST" or the folder given
  Normalize normalize;
};
MnistSource find_mnist(const std::string& preferred = "");

// The pixels stay bytes in memory (a quarter of float32's size); gather() converts the rows of
// a batch as it copies them, so a shuffled batch reads four times less scattered memory.
class MNIST : public Dataset {
 public:
  static constexpr int64_t kNumClasses = 10;

  // Loads and validates both files of the split. Throws nabla::Error naming the file when one
  // is missing (saying how to get the data) or malformed, when images and labels disagree in
  // count, or when a label is outside [0, 10).
  MNIST(const std::filesystem::path& dir, Split split,
        std::optional<Normalize> normalize = std::nullopt);

  int64_t size() const override { return labels_.size(0); }
  SampleLayout layout() const override;
  void gather(std::span<const int64_t> indices, const Tensor& inputs,
              const Tensor& targets) const override;

  // Every image as float32 (N, 1, rows, cols), converted as gather() converts them: a new
  // tensor on each call.
  Tensor images() const;
  const Tensor& labels() const { return labels_; }  // int64 (N)
  Split split() const { return split_; }

 private:
  std::shared_ptr<const uint8_t[]> pixels_;  // (N, rows, cols)
  int64_t rows_ = 0, cols_ = 0;
  Tensor labels_;
  bool normalize_ = false;
  float scale_ = 1.0f, shift_ = 0.0f;  // (x / 255 - mean) / std as one multiply-add
  Split split_;
};

// Both splits of the data find_mnist(preferred) picks, each normalised with that data's
// statistics.
struct MnistData {
  MnistSource source;
  MNIST train;
  MNIST test;
};
MnistData load_mnist(const std::string& preferred = "");

}  // namespace nabla::data
