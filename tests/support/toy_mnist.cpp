// The toy MNIST writer.
#include "support/toy_mnist.h"

#include <random>
#include <vector>

#include "support/idx_writer.h"

namespace nabla::testing {
namespace {

void write_split(const std::filesystem::path& dir, const char* prefix, uint32_t n, bool gzip,
                 std::mt19937& rng) {
  constexpr uint32_t kSide = 28;
  std::uniform_int_distribution<int> noise(0, 60);
  std::vector<uint8_t> images(size_t{n} * kSide * kSide), labels(n);
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t label = i % 10;
    labels[i] = static_cast<uint8_t>(label);
    uint8_t* image = images.data() + size_t{i} * kSide * kSide;
    for (uint32_t p = 0; p < kSide * kSide; ++p) image[p] = static_cast<uint8_t>(noise(rng));
    const uint32_t top = 4 + (label / 5) * 14, left = 1 + (label % 5) * 5;
    for (uint32_t r = top; r < top + 5; ++r)
      for (uint32_t c = left; c < left + 5; ++c) image[r * kSide + c] = 255;
  }
  const std::string ext = gzip ? ".gz" : "";
  write_idx(dir / (std::string(prefix) + "-images-idx3-ubyte" + ext), {n, kSide, kSide}, images,
            gzip);
  write_idx(dir / (std::string(prefix) + "-labels-idx1-ubyte" + ext), {n}, labels, gzip);
}

}  // namespace

void write_toy_mnist(const std::filesystem::path& dir, uint32_t train_size, uint32_t test_size,
                     uint32_t seed) {
  std::filesystem::create_directories(dir);
  std::mt19937 rng(seed);
  write_split(dir, "train", train_size, /*gzip=*/false, rng);
  write_split(dir, "t10k", test_size, /*gzip=*/true, rng);
}

}  // namespace nabla::testing
