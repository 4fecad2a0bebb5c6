// MNIST-format folders: generated ones (raw and gzip, with and without normalisation, and
// broken ones), datasets known by content, the default folders (the MNIST cache), and real
// MNIST and Fashion-MNIST when they are on the machine.
#include "nabla/data/mnist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

#include "nabla/data/idx.h"
#include "nabla/data/loader.h"
#include "support/gradcheck.h"
#include "support/idx_writer.h"

namespace nabla::data {
namespace {

using testing::expect_error;
using testing::TempDir;
using testing::write_idx;

constexpr uint32_t kRows = 28, kCols = 28;

std::vector<uint8_t> pixels(uint32_t n) {
  std::vector<uint8_t> v(n * kRows * kCols);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 13 % 256);
  return v;
}

// Writes one split of `n` samples with labels i % 10 into `dir`.
void write_split(const TempDir& dir, const std::string& prefix, uint32_t n, bool gzip,
                 std::vector<uint8_t> labels = {}) {
  if (labels.empty())
    for (uint32_t i = 0; i < n; ++i) labels.push_back(static_cast<uint8_t>(i % 10));
  const std::string gz = gzip ? ".gz" : "";
  write_idx(dir / (prefix + "-images-idx3-ubyte" + gz), {n, kRows, kCols}, pixels(n), gzip);
  write_idx(dir / (prefix + "-labels-idx1-ubyte" + gz), {static_cast<uint32_t>(labels.size())},
            labels, gzip);
}

TEST(MNIST, LoadsGeneratedFilesRawAndGzip) {
  for (bool gzip : {false, true}) {
    TempDir dir;
    write_split(dir, "train", 12, gzip);
    write_split(dir, "t10k", 5, gzip);
    const MNIST train(dir.path(), Split::Train), test(dir.path(), Split::Test);
    EXPECT_EQ(train.size(), 12);
    EXPECT_EQ(test.size(), 5);
    EXPECT_EQ(train.images().shape(), (Shape{12, 1, 28, 28}));
    EXPECT_EQ(train.images().dtype(), DType::Float32);
    EXPECT_EQ(train.labels().dtype(), DType::Int64);
    EXPECT_EQ(train.labels().to_vector<int64_t>(),
              (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1}));
    const std::vector<uint8_t> raw = pixels(12);
    const std::vector<float> x = train.images().to_vector<float>();
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], raw[i] / 255.0f) << i;
    EXPECT_EQ(*std::max_element(x.begin(), x.end()), 1.0f);
  }
}

TEST(MNIST, Normalisation) {
  TempDir dir;
  write_split(dir, "t10k", 3, false);
  const Normalize norm{0.25f, 0.5f};
  const MNIST plain(dir.path(), Split::Test), normed(dir.path(), Split::Test, norm);
  const std::vector<float> a = plain.images().to_vector<float>();
  const std::vector<float> b = normed.images().to_vector<float>();
  // One multiply-add instead of two roundings: a few float32 ulps apart.
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(b[i], (a[i] - 0.25f) / 0.5f, 1e-6) << i;
}

// The pixels stay bytes and a batch converts its rows: the same floats as images() has.
TEST(MNIST, GatherConvertsAsImagesDoes) {
  TempDir dir;
  write_split(dir, "train", 40, false);
  for (const std::optional<Normalize> norm :
       {std::optional<Normalize>{}, {Normalize{0.3f, 0.7f}}}) {
    const MNIST ds(dir.path(), Split::Train, norm);
    const std::vector<int64_t> indices{39, 0, 7, 7, 21, 3};
    const Batch b = ds.get_batch(indices);
    const std::vector<int64_t> labels = ds.labels().to_vector<int64_t>();
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const Tensor want = ds.images().select(0, indices[i]);
      EXPECT_EQ(b.inputs.select(0, static_cast<int64_t>(i)).to_vector<float>(),
                want.to_vector<float>())
          << i;
      EXPECT_EQ(b.targets.to_vector<int64_t>()[i], labels[indices[i]]) << i;
    }
    const SampleLayout l = ds.layout();
    EXPECT_EQ(l.input_shape, (Shape{1, 28, 28}));
    EXPECT_EQ(l.target_shape, Shape{});
  }
}

TEST(MNIST, GatherRejectsBadIndicesAndBuffers) {
  TempDir dir;
  write_split(dir, "train", 5, false);
  const MNIST ds(dir.path(), Split::Train);
  expect_error(
      [&] {
        ds.get_batch(std::vector<int64_t>{0, 5});
      },
      "index 5 is out of range for 5 samples");
  expect_error([&] { ds.get_batch(std::vector<int64_t>{-1}); }, "index -1 is out of range");
  expect_error(
      [&] {
        ds.gather(std::vector<int64_t>{0}, Tensor::empty({1, 784}),
                  Tensor::empty({1}, {.dtype = DType::Int64}));
      },
      "inputs must be a contiguous CPU float32 tensor of shape [1, 1, 28, 28]");
}

TEST(MNIST, LoadMnistReadsBothSplitsOfTheFolderGiven) {
  TempDir dir;
  write_split(dir, "train", 12, true);
  write_split(dir, "t10k", 5, true);
  const MnistData data = load_mnist(dir.path().string());
  EXPECT_EQ(data.source.dir, dir.path());
  EXPECT_EQ(data.train.size(), 12);
  EXPECT_EQ(data.test.size(), 5);
  EXPECT_EQ(data.train.split(), Split::Train);
  EXPECT_EQ(data.test.split(), Split::Test);
  // Data nabla does not know is normalised with its own training images' statistics.
  EXPECT_FALSE(data.source.known);
  EXPECT_EQ(data.source.name, "MNIST-format data in " + dir.path().string());
  const Normalize own = data.train.pixel_statistics();
  EXPECT_EQ(data.source.normalize.mean, own.mean);
  EXPECT_EQ(data.source.normalize.std, own.std);
  const float first = data.train.images().to_vector<float>()[1];
  EXPECT_NEAR(first, (13 / 255.0f - own.mean) / own.std, 1e-5);
  EXPECT_EQ(data.test.normalization()->mean, own.mean);  // the test split: the training stats
}

TEST(MNIST, LoadMnistWithoutNormalisation) {
  TempDir dir;
  write_split(dir, "train", 6, false);
  write_split(dir, "t10k", 3, false);
  const MnistData data = load_mnist(dir.path().string(), /*normalize=*/false);
  EXPECT_FALSE(data.train.normalization().has_value());
  EXPECT_FALSE(data.test.normalization().has_value());
  EXPECT_EQ(data.train.images().to_vector<float>()[1], 13 / 255.0f);
  EXPECT_TRUE(nlohmann::json::parse(data.train.identity()).at("normalize").is_null());
  // The source still says what the data's statistics are.
  EXPECT_EQ(data.source.normalize.mean, data.train.pixel_statistics().mean);
}

TEST(MNIST, PixelStatisticsAreTheMeanAndStdOfThePixels) {
  TempDir dir;
  write_split(dir, "train", 7, false);
  const MNIST train(dir.path(), Split::Train);
  double sum = 0, squares = 0;
  const std::vector<uint8_t> raw = pixels(7);
  for (uint8_t p : raw) sum += p / 255.0, squares += (p / 255.0) * (p / 255.0);
  const double mean = sum / raw.size();
  const Normalize stats = train.pixel_statistics();
  EXPECT_NEAR(stats.mean, mean, 1e-6);
  EXPECT_NEAR(stats.std, std::sqrt(squares / raw.size() - mean * mean), 1e-6);
}

TEST(MNIST, DigestsAreThoseOfTheDecompressedFiles) {
  TempDir dir;
  write_idx(dir / "raw", {3}, {1, 2, 3});
  write_idx(dir / "packed", {3}, {1, 2, 3}, /*gzip=*/true);
  // sha256sum of the bytes 00 00 08 01 00 00 00 03 01 02 03.
  const std::string expected = "398a8a7fbd9531f1d9aa2ae368533e137cb53c202c3665f25affcf1ca88844ab";
  EXPECT_EQ(read_idx(dir / "raw").sha256, expected);
  EXPECT_EQ(read_idx(dir / "packed").sha256, expected);
}

// The same files reached through a trailing slash, a symlink, or a folder named like another
// dataset are the same data, with the same name and normalisation.
TEST(MNIST, KnownByContentNotByPath) {
  TempDir dir;
  write_split(dir, "train", 12, true);
  write_split(dir, "t10k", 5, false);
  std::filesystem::create_directory_symlink(dir.path(), dir / "fashion-mnist");
  const MnistData plain = load_mnist(dir.path().string());
  for (const std::string& spelling : {dir.path().string() + "/", (dir / "fashion-mnist").string(),
                                      (dir / "fashion-mnist").string() + "/"}) {
    SCOPED_TRACE(spelling);
    const MnistData other = load_mnist(spelling);
    EXPECT_FALSE(other.source.known);
    EXPECT_EQ(other.train.identity(), plain.train.identity());
    EXPECT_EQ(other.source.normalize.mean, plain.source.normalize.mean);
    EXPECT_EQ(other.source.normalize.std, plain.source.normalize.std);
  }
  const auto identity = nlohmann::json::parse(plain.train.identity());
  EXPECT_EQ(identity.at("dataset"), "unknown");
  EXPECT_EQ(identity.at("split"), "train");
  EXPECT_EQ(identity.at("samples"), 12);
  EXPECT_EQ(identity.at("images_sha256"), plain.train.images_sha256());
  EXPECT_EQ(identity.at("normalize").at("mean"), plain.source.normalize.mean);
  // Other pixels: other data.
  TempDir changed;
  write_split(changed, "train", 12, true, std::vector<uint8_t>(12, 3));
  write_split(changed, "t10k", 5, false);
  EXPECT_NE(load_mnist(changed.path().string()).train.labels_sha256(), plain.train.labels_sha256());
}

TEST(MNIST, DatasetNames) {
  EXPECT_EQ(dataset_dir("mnist"), mnist_cache_dir());
  EXPECT_EQ(dataset_dir("fashion-mnist"), std::filesystem::path(kFashionMNISTDir));
  EXPECT_EQ(dataset_dir("fashion"), std::filesystem::path(kFashionMNISTDir));
  expect_error([] { dataset_dir("cifar"); }, "unknown dataset 'cifar'");
}

// Sets XDG_CACHE_HOME for one test, so that the MNIST cache is a folder of its own.
class CacheHome {
 public:
  explicit CacheHome(const std::filesystem::path& dir) {
    if (const char* old = std::getenv("XDG_CACHE_HOME")) old_ = old;
    ::setenv("XDG_CACHE_HOME", dir.c_str(), 1);
  }
  ~CacheHome() {
    if (old_)
      ::setenv("XDG_CACHE_HOME", old_->c_str(), 1);
    else
      ::unsetenv("XDG_CACHE_HOME");
  }

 private:
  std::optional<std::string> old_;
};

bool fashion_installed() {
  return std::filesystem::exists(std::filesystem::path(kFashionMNISTDir) /
                                 "train-labels-idx1-ubyte.gz");
}

TEST(MNIST, TheCacheFolderFollowsXdgCacheHome) {
  TempDir home;
  const CacheHome cache(home.path());
  EXPECT_EQ(mnist_cache_dir(), home / "nabla" / "mnist");
}

TEST(MNIST, APartialCacheIsPassedOver) {
  if (!fashion_installed()) GTEST_SKIP() << "Fashion-MNIST not installed in " << kFashionMNISTDir;
  TempDir home;
  const CacheHome cache(home.path());
  TempDir partial;  // two of the four files
  write_split(partial, "train", 4, false);
  std::filesystem::create_directories(home / "nabla");
  std::filesystem::create_directory_symlink(partial.path(), mnist_cache_dir());
  const MnistSource source = find_mnist();
  EXPECT_EQ(source.name, "Fashion-MNIST");
  EXPECT_TRUE(source.known);
}

TEST(MNIST, ACacheThatIsNotMnistIsAnError) {
  TempDir home;
  const CacheHome cache(home.path());
  const std::filesystem::path dir = mnist_cache_dir();
  std::filesystem::create_directories(dir);
  for (const char* prefix : {"train", "t10k"}) {
    const std::vector<uint8_t> labels(3, 1);
    write_idx(dir / (std::string(prefix) + "-images-idx3-ubyte"), {3, kRows, kCols}, pixels(3));
    write_idx(dir / (std::string(prefix) + "-labels-idx1-ubyte"), {3}, labels);
  }
  expect_error([] { load_mnist(); }, "are not real MNIST");
  // Given by name, the same folder is data of its own.
  EXPECT_FALSE(load_mnist(dir.string()).source.known);
}

TEST(MNIST, RealMnistIfFetched) {
  const std::filesystem::path dir = mnist_cache_dir();
  if (!std::filesystem::exists(dir / "train-images-idx3-ubyte"))
    GTEST_SKIP() << "real MNIST not fetched into " << dir << " (scripts/get-mnist.sh)";
  TempDir links;
  std::filesystem::create_directory_symlink(dir, links / "fashion-mnist");
  const MnistData data = load_mnist((links / "fashion-mnist").string() + "/");
  EXPECT_TRUE(data.source.known);
  EXPECT_EQ(data.source.name, "MNIST");
  EXPECT_EQ(data.source.normalize.mean, Normalize::mnist().mean);
  EXPECT_EQ(data.train.size(), 60000);
  EXPECT_EQ(data.test.size(), 10000);
  EXPECT_EQ(data.train.images_sha256(),
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db");
}

TEST(MNIST, MissingFileSaysHowToGetTheData) {
  TempDir dir;
  write_split(dir, "train", 4, false);
  try {
    MNIST(dir.path(), Split::Test);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find((dir / "t10k-images-idx3-ubyte").string()), std::string::npos) << what;
    EXPECT_NE(what.find("dataset-fashion-mnist"), std::string::npos) << what;
  }
}

TEST(MNIST, CountMismatch) {
  TempDir dir;
  write_split(dir, "train", 6, true, {1, 2, 3, 4, 5});
  expect_error([&] { MNIST(dir.path(), Split::Train); }, "holds 6 images but");
}

TEST(MNIST, LabelOutOfRange) {
  TempDir dir;
  write_split(dir, "train", 3, true, {1, 10, 2});
  expect_error([&] { MNIST(dir.path(), Split::Train); },
               "train-labels-idx1-ubyte.gz': label 10 of sample 1 is out of range [0, 10)");
}

TEST(MNIST, WrongRank) {
  TempDir dir;
  write_split(dir, "train", 4, false);
  write_idx(dir / "train-labels-idx1-ubyte", {2, 2}, {1, 2, 3, 4});
  expect_error([&] { MNIST(dir.path(), Split::Train); }, "labels must have 1 dimension");
}

TEST(MNIST, FashionMNISTIfInstalled) {
  const std::filesystem::path dir = kFashionMNISTDir;
  if (!fashion_installed())
    GTEST_SKIP() << "Fashion-MNIST not installed in " << dir
                 << " (apt install dataset-fashion-mnist)";
  TempDir links;  // known by content under any name
  std::filesystem::create_directory_symlink(dir, links / "mnist");
  const MnistSource source = find_mnist((links / "mnist").string());
  EXPECT_EQ(source.name, "Fashion-MNIST");
  EXPECT_EQ(source.normalize.mean, Normalize::fashion_mnist().mean);
  EXPECT_EQ(source.normalize.std, Normalize::fashion_mnist().std);
  for (Split split : {Split::Train, Split::Test}) {
    const MNIST ds(dir, split);
    const int64_t n = split == Split::Train ? 60000 : 10000;
    EXPECT_EQ(ds.size(), n);
    const Tensor images = ds.images();
    EXPECT_EQ(images.shape(), (Shape{n, 1, 28, 28}));
    const float* x = images.data<float>();
    const auto [lo, hi] = std::minmax_element(x, x + images.numel());
    EXPECT_EQ(*lo, 0.0f);
    EXPECT_EQ(*hi, 1.0f);
    std::vector<int64_t> histogram(10, 0);
    for (int64_t y : ds.labels().to_vector<int64_t>()) ++histogram.at(y);
    EXPECT_EQ(histogram, std::vector<int64_t>(10, n / 10));
  }
}

TEST(MNIST, WorksWithTheLoader) {
  TempDir dir;
  write_split(dir, "train", 10, true);
  const MNIST train(dir.path(), Split::Train);
  DataLoader loader(train, {.batch_size = 4, .shuffle = true, .seed = 1});
  int64_t seen = 0;
  for (Batch& b : loader) {
    EXPECT_EQ(b.inputs.size(1), 1);
    EXPECT_EQ(b.inputs.size(2), 28);
    seen += b.targets.size(0);
  }
  EXPECT_EQ(seen, 10);
}

}  // namespace
}  // namespace nabla::data
