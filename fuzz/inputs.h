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

// The TOML run configuration.
inline void run_config(const uint8_t* data, std::size_t size) {
  const InputFile file(".toml", data, size);
  try {
    train::RunOptions options;
    train::apply_config_file(options, file.path().string());
  } catch (const Error&) {
  }
}

}  // namespace nabla::fuzz
