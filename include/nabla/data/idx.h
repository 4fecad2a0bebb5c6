// IDX files, the format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, element type, number
// of dimensions), the dimensions as big-endian uint32, then the elements in row-major order.
// Files may be gzip-compressed (recognised by their first two bytes, 1f 8b, not by name).
//
// The reader trusts nothing in a file: it checks the magic, the element type, the dimensions
// and the payload length against the file, and reports any mismatch as a nabla::Error that
// names the file. Memory grows only as data actually arrives, capped by the header's claim, so
// a lying header cannot make it allocate more than the file really holds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace nabla::data {

// IDX element type codes (the third magic byte).
enum class IdxType : uint8_t {
  UByte = 0x08,
  SByte = 0x09,
  Short = 0x0B,
  Int = 0x0C,
  Float = 0x0D,
  Double = 0x0E,
};

// An IDX array of unsigned bytes (the only element type MNIST-format files use).
struct IdxArray {
  std::vector<int64_t> dims;  // outermost first
  std::vector<uint8_t> data;  // row-major, product(dims) bytes
  // SHA-256 (hex) of the file's bytes after decompression: for a raw file, what sha256sum prints.
  std::string sha256;
};

// Reads an IDX file of unsigned bytes, raw or gzip-compressed. Throws nabla::Error naming
// `path` when the file is missing, unreadable, malformed, or holds another element type.
IdxArray read_idx(const std::filesystem::path& path);

}  // namespace nabla::data
