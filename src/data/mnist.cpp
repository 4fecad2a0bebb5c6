// MNIST-format datasets: two IDX files per split, validated against each other and known by
// their SHA-256 digests.
#include "nabla/data/mnist.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "backend/memory.h"
#include "backend/vector_clones.h"
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

// The datasets nabla knows, by the SHA-256 digests of their files after decompression (for raw
// files, what sha256sum prints).
struct KnownDataset {
  const char* name;
  Normalize normalize;
  const char* train_images;
  const char* train_labels;
  const char* test_images;
  const char* test_labels;
};
const KnownDataset kKnownDatasets[] = {
    {"MNIST", Normalize::mnist(),
     "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
     "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
     "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
     "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
    {"Fashion-MNIST", Normalize::fashion_mnist(),
     "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
     "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
     "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
     "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
};

const KnownDataset* known_dataset(const std::string& name) {
  for (const KnownDataset& d : kKnownDatasets)
    if (name == d.name) return &d;
  return nullptr;
}

constexpr const char* kStems[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                  "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

constexpr const char* kHowToGetData =
    "Fetch real MNIST with scripts/get-mnist.sh (it verifies the files' SHA-256 digests), or "
    "install Fashion-MNIST with 'apt install dataset-fashion-mnist' (scripts/install-deps.sh "
    "does)";

// The file `stem` or `stem.gz` in `dir`, whichever exists (the raw one first).
fs::path find_file(const fs::path& dir, const std::string& stem) {
  std::error_code ec;
  for (const fs::path& candidate : {dir / stem, dir / (stem + ".gz")})
    if (fs::exists(candidate, ec)) return candidate;
  NABLA_FAIL(
      "MNIST: no file '{}' (or '{}.gz') in '{}'. {}; or give a folder that holds the four files",
      (dir / stem).string(), stem, dir.string(), kHowToGetData);
}

bool holds_mnist_files(const fs::path& dir) {
  std::error_code ec;
  for (const char* stem : kStems)
    if (!fs::exists(dir / stem, ec) && !fs::exists(dir / (std::string(stem) + ".gz"), ec))
      return false;
  return true;
}

// `preferred` when given, else the first default folder that holds the four files.
fs::path pick_folder(const std::string& preferred) {
  if (!preferred.empty()) {
    find_file(preferred, kStems[0]);  // throws, saying how to get the data
    return preferred;
  }
  for (const fs::path& dir : {fs::path("data/mnist"), mnist_cache_dir()})
    if (holds_mnist_files(dir)) return dir;
  if (holds_mnist_files(kFashionMNISTDir)) return kFashionMNISTDir;
  NABLA_FAIL("no MNIST-format data found: neither data/mnist/, {} nor {} holds the four files. {}",
             mnist_cache_dir().string(), kFashionMNISTDir, kHowToGetData);
}

}  // namespace

fs::path mnist_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && *xdg == '/') return fs::path(xdg) / "nabla" / "mnist";
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : ".") / ".cache" / "nabla" / "mnist";
}

fs::path dataset_dir(const std::string& name) {
  if (name == "mnist") return mnist_cache_dir();
  if (name == "fashion-mnist" || name == "fashion") return kFashionMNISTDir;
  NABLA_FAIL(
      "unknown dataset '{}': nabla knows 'mnist' and 'fashion-mnist' (or give a folder "
      "with --data)",
      name);
}

std::string MnistSource::describe() const {
  if (known) return fmt::format("{} (SHA-256 verified)", name);
  return fmt::format(
      "{} (digests nabla does not know; normalised with its training images' "
      "mean {:.4f} and std {:.4f})",
      name, normalize.mean, normalize.std);
}

MnistSource find_mnist(const std::string& preferred) {
  return load_mnist(preferred).source;
}

MNIST::MNIST(const fs::path& dir, Split split, std::optional<Normalize> normalize) : split_(split) {
  const bool train = split == Split::Train;
  const fs::path images_path = find_file(dir, kStems[train ? 0 : 2]);
  const fs::path labels_path = find_file(dir, kStems[train ? 1 : 3]);
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

  images_sha256_ = images.sha256;
  labels_sha256_ = labels.sha256;
  for (const KnownDataset& d : kKnownDatasets)
    if (images_sha256_ == (train ? d.train_images : d.test_images) &&
        labels_sha256_ == (train ? d.train_labels : d.test_labels))
      name_ = d.name;

  set_normalization(normalize);
  rows_ = images.dims[1];
  cols_ = images.dims[2];
  auto pixels = backend::make_host_array<uint8_t>(images.data.size());
  std::copy(images.data.begin(), images.data.end(), pixels.get());
  pixels_ = std::move(pixels);
}

void MNIST::set_normalization(std::optional<Normalize> normalize) {
  if (normalize) {
    NABLA_CHECK(
        std::isfinite(normalize->mean) && std::isfinite(normalize->std) && normalize->std > 0.0f,
        "MNIST: Normalize needs a finite mean and a positive std, got mean {}, std {}",
        normalize->mean, normalize->std);
    scale_ = 1.0f / (255.0f * normalize->std);
    shift_ = -normalize->mean / normalize->std;
  }
  normalization_ = normalize;
}

Normalize MNIST::pixel_statistics() const {
  // A histogram of the byte values: exact counts, and sums that do not depend on the order.
  std::array<int64_t, 256> count{};
  const int64_t n = size() * rows_ * cols_;
  for (int64_t i = 0; i < n; ++i) ++count[pixels_[i]];
  double sum = 0, sum_squares = 0;
  for (int v = 0; v < 256; ++v) {
    const double x = v / 255.0;
    sum += static_cast<double>(count[v]) * x;
    sum_squares += static_cast<double>(count[v]) * x * x;
  }
  const double mean = sum / static_cast<double>(n);
  const double variance = std::max(0.0, sum_squares / static_cast<double>(n) - mean * mean);
  // Blank images have no spread; a std of 1 keeps the normalisation defined.
  return {static_cast<float>(mean), variance > 0 ? static_cast<float>(std::sqrt(variance)) : 1.0f};
}

std::string MNIST::identity() const {
  nlohmann::ordered_json j = {{"dataset", name_.empty() ? "unknown" : name_},
                              {"split", split_ == Split::Train ? "train" : "test"},
                              {"samples", size()},
                              {"images_sha256", images_sha256_},
                              {"labels_sha256", labels_sha256_},
                              {"normalize", nullptr}};
  if (normalization_)
    j["normalize"] = {{"mean", normalization_->mean}, {"std", normalization_->std}};
  return j.dump();
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
  const bool normalize = normalization_.has_value();
  float* to = inputs.data<float>();
  int64_t* to_label = targets.data<int64_t>();
  const int64_t* label = labels_.data<int64_t>();
  detail::for_each_row(
      indices, size(), [&](int64_t k) { detail::prefetch_bytes(pixels_.get() + k * row, row); },
      [&](std::size_t i, int64_t k) {
        convert_pixels(pixels_.get() + k * row, to + i * row, row, normalize, scale_, shift_);
        to_label[i] = label[k];
      });
}

Tensor MNIST::images() const {
  Tensor out = Tensor::empty({size(), 1, rows_, cols_});
  convert_pixels(pixels_.get(), out.data<float>(), out.numel(), normalization_.has_value(), scale_,
                 shift_);
  return out;
}

MnistData load_mnist(const std::string& preferred, bool normalize) {
  const fs::path dir = pick_folder(preferred);
  MNIST train(dir, Split::Train);
  MNIST test(dir, Split::Test);
  // Known by content: a folder is MNIST when both splits' digests say so, whatever its path.
  const std::string name = train.name() == test.name() ? train.name() : "";
  const bool found_by_default = preferred.empty() && dir != fs::path(kFashionMNISTDir);
  NABLA_CHECK(!found_by_default || name == "MNIST",
              "MNIST: the files in '{}' are not real MNIST (their SHA-256 digests differ from "
              "MNIST's: a partial or corrupt download?). Run scripts/get-mnist.sh to fetch them "
              "again, or give a folder with --data",
              dir.string());
  const KnownDataset* known = known_dataset(name);
  const Normalize statistics = known != nullptr ? known->normalize : train.pixel_statistics();
  if (normalize) {
    train.set_normalization(statistics);
    test.set_normalization(statistics);
  }
  MnistSource source{dir, known != nullptr ? name : "MNIST-format data in " + dir.string(),
                     known != nullptr, statistics};
  return {std::move(source), std::move(train), std::move(test)};
}

}  // namespace nabla::data
