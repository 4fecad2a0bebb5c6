// MNIST-format folders: generated ones (raw and gzip, with and without normalisation, and
// broken ones), and Fashion-MNIST when Debian's dataset-fashion-mnist is installed.
#include "nabla/data/mnist.h"

#include <gtest/gtest.h>

#include <algorithm>

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
  // Normalised with MNIST's statistics, as find_mnist says for a folder given by name.
  const float first = data.train.images().to_vector<float>()[1];
  EXPECT_NEAR(first, (13 / 255.0f - 0.1307f) / 0.3081f, 1e-6);
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
  if (!std::filesystem::exists(dir / "train-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed in " << dir
                 << " (apt install dataset-fashion-mnist)";
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
