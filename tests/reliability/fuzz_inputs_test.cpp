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
// The resume seeds are the state tables of mid-epoch checkpoints written before each optimizer
// kept its group state to itself, so every optimizer's holds NAdam's "group.0.mu_product" and
// SWATS's "group.0.swats_*": such a checkpoint still resumes, and trains on. (Keep these seeds
// as they are.)
TEST(FuzzInputs, ResumeSeedsWrittenBeforeStillResume) {
  for (const char* seed : {"adam_cosine", "sgd_plateau", "swats_restarts"}) {
    SCOPED_TRACE(seed);
    std::ifstream in(fs::path(NABLA_FUZZ_CORPUS) / "resume" / seed, std::ios::binary);
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    ASSERT_FALSE(bytes.empty());
    const std::string state(bytes.begin(), bytes.end());
    EXPECT_NE(state.find("\"group.0.mu_product\""), std::string::npos);
    EXPECT_NE(state.find("\"group.0.swats_lambda\""), std::string::npos);
    EXPECT_NO_THROW(nabla::fuzz::resume_from(bytes.data(), bytes.size()));
  }
}

TEST(FuzzInputs, Config) {
  replay("config", nabla::fuzz::run_config);
}

}  // namespace
