// Writes IDX files (raw or gzip) for tests: well-formed ones from dims and bytes, and the raw
// bytes to build malformed ones from.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace nabla::testing {

// Header (0, 0, type, ndims, big-endian dims) followed by `data`.
std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
                               uint8_t type = 0x08);
// The gzip encoding of `bytes`.
std::vector<uint8_t> gzip_bytes(const std::vector<uint8_t>& bytes);
void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);
// A well-formed unsigned-byte IDX file, gzip-compressed when `gzip`.
void write_idx(const std::filesystem::path& path, const std::vector<uint32_t>& dims,
               const std::vector<uint8_t>& data, bool gzip = false);

// A fresh directory under the system's temporary folder, removed with its contents.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "nabla_test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace nabla::testing
