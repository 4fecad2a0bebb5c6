// A tiny MNIST-format dataset that a small network learns in a few epochs: each 28x28 image is
// faint noise plus a bright 5x5 square whose position (one of ten, on a 2 x 5 grid) is its label.
#pragma once

#include <cstdint>
#include <filesystem>

namespace nabla::testing {

// Writes the four MNIST files into `dir` (created): the training files raw, the test files
// gzip-compressed, so that both encodings are exercised. Labels cycle through 0..9.
void write_toy_mnist(const std::filesystem::path& dir, uint32_t train_size = 200,
                     uint32_t test_size = 100, uint32_t seed = 1);

}  // namespace nabla::testing
