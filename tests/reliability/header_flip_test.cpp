// A checkpoint is verified whole: one flipped bit anywhere in the file (the length, the JSON
// header with its state, config and checksum table, or the tensor bytes) either fails to load
// with a nabla::Error, or resumes to exactly the result of the intact file. Never a different
// result with success.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "nabla/nabla.h"
#include "support/gradcheck.h"
#include "support/idx_writer.h"

using namespace nabla;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<float> inputs() {
  std::vector<float> x(48);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) * 0.1f;
  return x;
}

struct Resumable {
  data::TensorDataset data{
      Tensor::from_vector(inputs(), {12, 4}),
      Tensor::from_vector(std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}, {12})};
  train::TrainerConfig config() const {
    train::TrainerConfig c{.epochs = 2, .batch_size = 4};
    c.progress = train::ProgressMode::Off;
    c.handle_signals = false;
    return c;
  }
  std::unique_ptr<train::Trainer> trainer(const std::string& resume = "") const {
    Generator gen(7);
    auto model = std::make_shared<nn::Sequential>(nn::Linear(4, 5, true, &gen), nn::ReLU(),
                                                  nn::Linear(5, 3, true, &gen));
    train::TrainerConfig c = config();
    c.resume = resume;
    return std::make_unique<train::Trainer>(model, optim::AdamConfig{.lr = 0.01},
                                            sched::StepLRConfig{.step_size = 1, .gamma = 0.5}, c);
  }
  // Resumes from `file` to the end and returns the weights.
  std::vector<float> finish(const std::string& file) const {
    auto t = trainer(file);
    t->fit(data);
    std::vector<float> out;
    for (const Tensor& p : t->model().parameters()) {
      const auto v = p.to_vector<float>();
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  }
};

TEST(HeaderFlips, EveryFlipFailsOrResumesExactly) {
  nabla::testing::TempDir dir("nabla_flips");
  const Resumable run;
  const std::string good = (dir / "good.safetensors").string();
  {
    auto t = run.trainer();
    t->on_step_end = [&](const train::StepInfo& s) {
      if (s.step == 4) t->save_checkpoint(good);  // epoch 2, batch 1: every section is there
    };
    t->fit(run.data);
  }
  const std::vector<float> expected = run.finish(good);
  const std::string bytes = read_all(good);
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i)
    header_len |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  const std::string bad = (dir / "bad.safetensors").string();
  int refused = 0, same = 0;
  // Every byte of the length and the header, one bit each (all eight over eight bytes); then
  // every fourth byte of the tensor data.
  for (std::size_t at = 0; at < bytes.size(); at += at < 8 + header_len ? 1 : 4) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ (1 << (at % 8)));
    std::ofstream(bad, std::ios::binary | std::ios::trunc) << flipped;
    try {
      const std::vector<float> got = run.finish(bad);
      ASSERT_EQ(got, expected) << "byte " << at << " of " << bytes.size()
                               << " flipped: a different result without an error";
      ++same;
    } catch (const Error&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
  RecordProperty("refused", refused);
  RecordProperty("same", same);
}

}  // namespace
