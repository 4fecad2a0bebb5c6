// MNIST-format datasets: two IDX files per split, validated against each other.
#include "nabla/data/mnist.h"

#include "cpu/loops.h"
#include "cpu/memory.h"
#include "data/gather.h"
#include "nabla/data/idx.h"
#include "nabla/error.h"

namespace nabla::data {
namespace {

namespace fs = std::filesystem;

// Pixel bytes to floats: p / 255, or p * scale + shift when normalising. The file is built
// without contraction, so every clone rounds the multiply and the add separately and a pixel
// has one value on every machine.
NABLA_VECTOR_CLONES void convert_pixels(const uint8_t* __restrict from, float* __restrict to,
                                        int64_t n, bool normalize, float scale, float shift) {
  if (normalize)
    for (int64_t j = 0; j < n; ++j) to[j] = static_cast<float>(from[j]) * scale + shift;
  else
    for (int64_t j = 0; j < n; ++j) to[j] = static_cast<float>(from[j]) / 255.0f;
}

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

MNIST::MNIST(const fs::path& dir, Split split, std::optional<Normalize> normalize) : split_(split) {
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
  const int64_t n = images.dims[0];
  NABLA_CHECK(labels.dims[0] == n, "MNIST: '{}' holds {} images but '{}' holds {} labels",
              images_path.string(), n, labels_path.string(), labels.dims[0]);

  labels_ = Tensor::empty({n}, {.dtype = DType::Int64});
  int64_t* label_data = labels_.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    NABLA_CHECK(labels.data[i] < kNumClasses,
                "MNIST: IDX file '{}': label {} of sample {} is out of range [0, {})",
                labels_path.string(), labels.data[i], i, kNumClasses);
    label_data[i] = labels.data[i];
  }

  if (normalize) {
    NABLA_CHECK(normalize->std > 0.0f, "MNIST: Normalize std must be positive, got {}",
                normalize->std);
    normalize_ = true;
    scale_ = 1.0f / (255.0f * normalize->std);
    shift_ = -normalize->mean / normalize->std;
  }
  rows_ = images.dims[1];
  cols_ = images.dims[2];
  auto pixels = cpu::make_host_array<uint8_t>(images.data.size());
  std::copy(images.data.begin(), images.data.end(), pixels.get());
  pixels_ = std::move(pixels);
}

SampleLayout MNIST::layout() const {
  return {Shape{1, rows_, cols_}, DType::Float32, Shape{}, DType::Int64};
}

void MNIST::gather(std::span<const int64_t> indices, const Tensor& inputs,
                   const Tensor& targets) const {
  const auto b = static_cast<int64_t>(indices.size());
  const SampleLayout l = layout();
  detail::check_batch_tensor(inputs, b, l.input_shape, l.input_dtype, "inputs");
  detail::check_batch_tensor(targets, b, l.target_shape, l.target_dtype, "targets");
  const int64_t row = rows_ * cols_;
  float* to = inputs.data<float>();
  int64_t* to_label = targets.data<int64_t>();
  const int64_t* label = labels_.data<int64_t>();
  detail::for_each_row(
      indices, size(), [&](int64_t k) { detail::prefetch_bytes(pixels_.get() + k * row, row); },
      [&](std::size_t i, int64_t k) {
        convert_pixels(pixels_.get() + k * row, to + i * row, row, normalize_, scale_, shift_);
        to_label[i] = label[k];
      });
}

Tensor MNIST::images() const {
  Tensor out = Tensor::empty({size(), 1, rows_, cols_});
  convert_pixels(pixels_.get(), out.data<float>(), out.numel(), normalize_, scale_, shift_);
  return out;
}

MnistData load_mnist(const std::string& preferred) {
  const MnistSource source = find_mnist(preferred);
  return {source, MNIST(source.dir, Split::Train, source.normalize),
          MNIST(source.dir, Split::Test, source.normalize)};
}

}  // namespace nabla::data
