// Replays every input kept in fuzz/corpus/<target>/ (the seeds and each input that once made a
// parser crash, hang or trip a sanitizer, named regress-*) through the fuzz targets' code, so
// that every build, sanitized or not, checks them without libFuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "inputs.h"

namespace fs = std::filesystem;

namespace {

void replay(const std::string& target, void (*run)(const uint8_t*, std::size_t)) {
  const fs::path dir = fs::path(NABLA_FUZZ_CORPUS) / target;
  int inputs = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    SCOPED_TRACE(entry.path().string());
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    EXPECT_NO_THROW(run(bytes.data(), bytes.size()));
    ++inputs;
  }
  EXPECT_GT(inputs, 0) << "no inputs in " << dir;
}

TEST(FuzzInputs, Idx) {
  replay("idx", nabla::fuzz::run_idx);
}
TEST(FuzzInputs, Checkpoint) {
  replay("checkpoint", nabla::fuzz::run_checkpoint);
}
TEST(FuzzInputs, Resume) {
  replay("resume", nabla::fuzz::run_resume);
}
TEST(FuzzInputs, Config) {
  replay("config", nabla::fuzz::run_config);
}

}  // namespace
