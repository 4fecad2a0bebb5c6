// What each fuzz target does with one input, shared by the libFuzzer targets (fuzz/*_fuzz.cpp)
// and by the regression test that replays every kept input (tests/reliability/fuzz_inputs_test).
// Each parser is given the bytes as a file, since that is how it meets them. A parser may accept
// the input or reject it with nabla::Error; any other exception, crash, hang or sanitizer report
// is a bug.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "nabla/data/idx.h"
#include "nabla/error.h"
#include "nabla/nabla.h"
#include "nabla/train/checkpoint.h"
#include "nabla/train/options.h"
#include "nabla/train/safetensors.h"

namespace nabla::fuzz {

// A file holding the input, private to this process, removed when done.
class InputFile {
 public:
  InputFile(const std::string& suffix, const uint8_t* data, std::size_t size)
      : path_(std::filesystem::temp_directory_path() /
              ("nabla-fuzz-" + std::to_string(::getpid()) + suffix)) {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (f == nullptr) std::abort();
    if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
  }
  ~InputFile() { std::filesystem::remove(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The gzip encoding of `n` bytes (deflate level 1: fuzzing wants speed, not ratio).
inline std::vector<uint8_t> gzip(const uint8_t* data, std::size_t n) {
  z_stream s{};
  if (deflateInit2(&s, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<uint8_t> out(deflateBound(&s, n) + 32);
  s.next_in = const_cast<uint8_t*>(data);
  s.avail_in = static_cast<uInt>(n);
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  if (deflate(&s, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// IDX: the first byte chooses the encoding. Odd: the rest is gzip-compressed first, so that the
// header and payload checks run behind the decompressor; even: the rest is the file as it is
// (which also reaches the gzip reader, with corrupt streams, when it starts with 1f 8b).
inline void run_idx(const uint8_t* data, std::size_t size) {
  if (size == 0) return;
  std::vector<uint8_t> bytes(data + 1, data + size);
  if (data[0] & 1) bytes = gzip(bytes.data(), bytes.size());
  const InputFile file(".idx", bytes.data(), bytes.size());
  try {
    const data::IdxArray a = data::read_idx(file.path());
    uint64_t n = 1;
    for (int64_t d : a.dims) n *= static_cast<uint64_t>(d);
    if (n != a.data.size()) std::abort();  // the reader's promise: product(dims) bytes
  } catch (const Error&) {
  }
}

// Checkpoints: the safetensors layer, then the checkpoint layer on top of it.
inline void run_checkpoint(const uint8_t* data, std::size_t size) {
  const InputFile file(".safetensors", data, size);
  try {
    io::load_safetensors(file.path().string());
  } catch (const Error&) {
    return;
  }
  try {
    train::load_checkpoint(file.path().string());
  } catch (const Error&) {
  }
}

// The whole resume path: Trainer::load_checkpoint with its optimizer, scheduler, trainer and
// loader sections, then a short fit. The checksums would stop nearly every mutation at the
// file's door, so the input is the checkpoint's state table itself ("nabla.state", the JSON
// that holds every section's numbers), put into an otherwise intact checkpoint with valid
// checksums. The first byte picks the training set-up; the seeds (fuzz/corpus/resume/) are the
// state tables of mid-epoch checkpoints of each.
struct ResumeSetup {
  optim::OptimizerConfig optimizer;
  sched::SchedulerConfig scheduler;
};
inline const std::vector<ResumeSetup>& resume_setups() {
  static const std::vector<ResumeSetup> setups = {
      {optim::AdamConfig{.lr = 0.01}, sched::CosineAnnealingLRConfig{.t_max = 3}},
      {optim::SGDConfig{.lr = 0.1, .momentum = 0.9}, sched::ReduceLROnPlateauConfig{}},
      {optim::SWATSConfig{}, sched::CosineAnnealingWarmRestartsConfig{.t_0 = 2}},
  };
  return setups;
}
inline const data::TensorDataset& resume_data() {
  static const data::TensorDataset data(Tensor::ones({8, 3}),
                                        Tensor::zeros({8}, {.dtype = DType::Int64}));
  return data;
}
inline std::unique_ptr<train::Trainer> resume_trainer(const ResumeSetup& setup,
                                                      const std::string& resume = "") {
  train::TrainerConfig c{.epochs = 2, .batch_size = 4};
  c.progress = train::ProgressMode::Off;
  c.handle_signals = false;
  c.resume = resume;
  return std::make_unique<train::Trainer>(std::make_shared<nn::Linear>(3, 2), setup.optimizer,
                                          setup.scheduler, c);
}
// A checkpoint of `setup` written after the first step (mid-epoch, so with a loader section).
inline io::SafetensorsContents resume_snapshot(const ResumeSetup& setup) {
  const InputFile file(".snapshot", nullptr, 0);
  auto t = resume_trainer(setup);
  t->on_step_end = [&](const train::StepInfo& s) {
    if (s.step == 1) t->save_checkpoint(file.path().string());
  };
  t->fit(resume_data());
  return io::load_safetensors(file.path().string());
}

// Resumes and fits from the input; throws nabla::Error where the input is refused.
inline void resume_from(const uint8_t* data, std::size_t size) {
  if (size == 0) return;
  const std::size_t which = data[0] % resume_setups().size();
  static std::vector<io::SafetensorsContents> snapshots;
  if (snapshots.empty())
    for (const ResumeSetup& setup : resume_setups()) snapshots.push_back(resume_snapshot(setup));
  io::Metadata metadata = snapshots[which].metadata;
  metadata["nabla.state"] = std::string(reinterpret_cast<const char*>(data) + 1, size - 1);
  // A folder of its own: a checkpoint that does not read makes the resume look at its siblings.
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("nabla-fuzz-resume-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  const std::string file = (dir / "input.safetensors").string();
  io::save_safetensors(file, snapshots[which].tensors, metadata);
  resume_trainer(resume_setups()[which], file)->fit(resume_data());
}
inline void run_resume(const uint8_t* data, std::size_t size) {
  try {
    resume_from(data, size);
  } catch (const Error&) {
  }
}

// The TOML run configuration.
inline void run_config(const uint8_t* data, std::size_t size) {
  const InputFile file(".toml", data, size);
  try {
    train::RunOptions options;
    std::vector<int64_t> hidden;
    train::CommandLine cli("fuzz", "");
    cli.add_training_options(options);
    cli.add({.name = "hidden", .section = "model"}, hidden);
    cli.apply_config_file(file.path().string());
  } catch (const Error&) {
  }
}

}  // namespace nabla::fuzz
