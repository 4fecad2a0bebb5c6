// MNIST-format datasets (MNIST, Fashion-MNIST, and others with the same four files) loaded
// from a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each raw or with a .gz suffix.
//
//   auto [source, train, test] = data::load_mnist();  // real MNIST when fetched, see below
//   source.name;     // "MNIST": known by the SHA-256 digests of its files, not by their path
//   train.images();  // float32 (60000, 1, 28, 28): pixels / 255, then normalised
//   train.labels();  // int64 (60000), in [0, 10)
//
// Real MNIST lives in the user's cache (mnist_cache_dir(), filled and verified by
// scripts/get-mnist.sh); Fashion-MNIST in Debian's dataset-fashion-mnist package.
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

// Where scripts/get-mnist.sh keeps real MNIST: $XDG_CACHE_HOME/nabla/mnist, or
// ~/.cache/nabla/mnist when XDG_CACHE_HOME is not set.
std::filesystem::path mnist_cache_dir();

// The folder of a dataset nabla knows by name: "mnist" (mnist_cache_dir()) or "fashion-mnist"
// ("fashion" for short: kFashionMNISTDir). Throws for any other name.
std::filesystem::path dataset_dir(const std::string& name);

// MNIST-format data as its content says: the dataset its files' SHA-256 digests belong to, and
// the normalisation that goes with it (the dataset's usual statistics, or for data nabla does
// not know, the mean and std of its training images).
struct MnistSource {
  std::filesystem::path dir;
  std::string name;    // "MNIST", "Fashion-MNIST", or "MNIST-format data in DIR"
  bool known = false;  // the digests are those of a dataset nabla knows
  Normalize normalize;
  // "MNIST (SHA-256 verified)", or for unknown data its name and the statistics it is
  // normalised with.
  std::string describe() const;
};

// Which MNIST-format folder a program should use, known by its content: `preferred` when given
// (a folder that must hold the files), else data/mnist or mnist_cache_dir() when it holds the
// four files, else Debian's Fashion-MNIST. Reads the files (load_mnist keeps what it reads).
// Throws a nabla::Error saying how to get a dataset when none is there, and when a folder
// found by default holds files that are not real MNIST (a corrupt cache).
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

  // The dataset this split's two files belong to by their SHA-256 digests: "MNIST",
  // "Fashion-MNIST", or "" when nabla does not know them.
  const std::string& name() const { return name_; }
  const std::string& images_sha256() const { return images_sha256_; }
  const std::string& labels_sha256() const { return labels_sha256_; }
  // The mean and std of the pixels scaled to [0, 1], over every image of the split.
  Normalize pixel_statistics() const;
  const std::optional<Normalize>& normalization() const { return normalization_; }
  void set_normalization(std::optional<Normalize> normalize);
  // JSON: the dataset's name, the split, its size, both digests and the normalisation.
  std::string identity() const override;

 private:
  std::shared_ptr<const uint8_t[]> pixels_;  // (N, rows, cols)
  int64_t rows_ = 0, cols_ = 0;
  Tensor labels_;
  std::optional<Normalize> normalization_;
  float scale_ = 1.0f, shift_ = 0.0f;  // (x / 255 - mean) / std as one multiply-add
  Split split_;
  std::string name_, images_sha256_, labels_sha256_;
};

// Both splits of the data find_mnist(preferred) picks, each normalised as its source says, or
// with `normalize` false not at all (pixels / 255, as torchvision's ToTensor() alone gives them).
struct MnistData {
  MnistSource source;
  MNIST train;
  MNIST test;
};
MnistData load_mnist(const std::string& preferred = "", bool normalize = true);

}  // namespace nabla::data
