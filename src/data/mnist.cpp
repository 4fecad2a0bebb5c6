// MNIST-format datasets: two IDX files per split, validated against each other.
#include "nabla/data/mnist.h"

#include "nabla/data/idx.h"
#include "nabla/error.h"

namespace nabla::data {
namespace {

namespace fs = std::filesystem;

// The file `stem` or `stem.gz` in `dir`, whichever exists (the raw one first).
fs::path find_file(const fs::path& dir, const std::string& stem) {
  std::error_code ec;
  for (const fs::path& candidate : {dir / stem, dir / (stem + ".gz")})
    if (fs::exists(candidate, ec)) return candidate;
  NABLA_FAIL(
      "MNIST: no file '{}' (or '{}.gz') in '{}'. Put the four MNIST files there "
      "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
      "t10k-labels-idx1-ubyte.gz from https://ossci-datasets.s3.amazonaws.com/mnist/), or use "
      "Fashion-MNIST from Debian's dataset-fashion-mnist package (apt install "
      "dataset-fashion-mnist), installed in {}",
      (dir / stem).string(), stem, dir.string(), kFashionMNISTDir);
}

std::pair<Tensor, Tensor> load(const fs::path& dir, Split split,
                               const std::optional<Normalize>& normalize) {
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const fs::path images_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const fs::path labels_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  const IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);

  NABLA_CHECK(images.dims.size() == 3,
              "MNIST: IDX file '{}': images must have 3 dimensions (count, rows, cols), it has {}",
              images_path.string(), images.dims.size());
  NABLA_CHECK(labels.dims.size() == 1,
              "MNIST: IDX file '{}': labels must have 1 dimension (count), it has {}",
              labels_path.string(), labels.dims.size());
  const int64_t n = images.dims[0], rows = images.dims[1], cols = images.dims[2];
  NABLA_CHECK(labels.dims[0] == n, "MNIST: '{}' holds {} images but '{}' holds {} labels",
              images_path.string(), n, labels_path.string(), labels.dims[0]);

  Tensor label_tensor = Tensor::empty({n}, {.dtype = DType::Int64});
  int64_t* label_data = label_tensor.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    NABLA_CHECK(labels.data[i] < MNIST::kNumClasses,
                "MNIST: IDX file '{}': label {} of sample {} is out of range [0, {})",
                labels_path.string(), labels.data[i], i, MNIST::kNumClasses);
    label_data[i] = labels.data[i];
  }

  // pixel / 255, then (x - mean) / std folded into one multiply-add.
  const Normalize norm = normalize.value_or(Normalize{});
  NABLA_CHECK(norm.std > 0.0f, "MNIST: Normalize std must be positive, got {}", norm.std);
  const float scale = 1.0f / (255.0f * norm.std), shift = -norm.mean / norm.std;
  Tensor image_tensor = Tensor::empty({n, 1, rows, cols});
  float* pixels = image_tensor.data<float>();
  const std::size_t count = images.data.size();
  for (std::size_t i = 0; i < count; ++i)
    pixels[i] = normalize ? static_cast<float>(images.data[i]) * scale + shift
                          : static_cast<float>(images.data[i]) / 255.0f;
  return {image_tensor, label_tensor};
}

}  // namespace

MnistSource find_mnist(const std::string& preferred) {
  auto holds_mnist = [](const fs::path& dir) {
    std::error_code ec;
    for (const char* stem : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
      if (!fs::exists(dir / stem, ec) && !fs::exists(dir / (std::string(stem) + ".gz"), ec))
        return false;
    return true;
  };
  if (!preferred.empty()) {
    find_file(preferred, "train-images-idx3-ubyte");  // throws, saying how to get the data
    const bool fashion = fs::path(preferred).lexically_normal() == fs::path(kFashionMNISTDir);
    return {preferred, fashion ? "Fashion-MNIST" : preferred,
            fashion ? Normalize::fashion_mnist() : Normalize::mnist()};
  }
  if (holds_mnist("data/mnist")) return {"data/mnist", "MNIST", Normalize::mnist()};
  if (holds_mnist(kFashionMNISTDir))
    return {kFashionMNISTDir, "Fashion-MNIST", Normalize::fashion_mnist()};
  NABLA_FAIL(
      "no MNIST-format data found: data/mnist/ does not hold MNIST and {} does not exist. "
      "Install Fashion-MNIST with 'apt install dataset-fashion-mnist' (scripts/install-deps.sh "
      "does), or put the four MNIST files (train-images-idx3-ubyte.gz, "
      "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in "
      "data/mnist/ or a folder given with --data",
      kFashionMNISTDir);
}

MNIST::MNIST(const fs::path& dir, Split split, std::optional<Normalize> normalize)
    : MNIST(load(dir, split, normalize), split) {}

MNIST::MNIST(std::pair<Tensor, Tensor> data, Split split)
    : TensorDataset(std::move(data.first), std::move(data.second)), split_(split) {}

}  // namespace nabla::data
