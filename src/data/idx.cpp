// The IDX reader: raw or gzip-compressed files, validated before anything is trusted.
#include "nabla/data/idx.h"

#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "data/sha256.h"
#include "nabla/error.h"

namespace nabla::data {
namespace {

namespace fs = std::filesystem;

// Far beyond any real IDX file; a header claiming more is garbage.
constexpr uint64_t kMaxElements = uint64_t{1} << 40;
constexpr int64_t kMaxDims = 16;
// Deflate cannot expand data by more than about 1032:1, so a gzip file of C bytes holds at most
// this many times C bytes (plus a little for tiny files).
constexpr uint64_t kMaxGzipRatio = 1032;

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  NABLA_FAIL("IDX file '{}': {}", path.string(), what);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// A stream of the file's (decompressed) bytes. read() returns fewer bytes than asked only at
// the end of the data; finish() checks that nothing follows.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::size_t read(uint8_t* dst, std::size_t n) = 0;
  virtual void finish() = 0;
};

class RawSource final : public Source {
 public:
  RawSource(std::FILE* file, const fs::path& path) : file_(file), path_(path) {}
  std::size_t read(uint8_t* dst, std::size_t n) override {
    const std::size_t got = std::fread(dst, 1, n, file_);
    if (got < n && std::ferror(file_))
      fail(path_, fmt::format("read error ({})", std::strerror(errno)));
    return got;
  }
  void finish() override {
    uint8_t byte;
    if (read(&byte, 1) != 0) fail(path_, "trailing bytes after the data the header declares");
  }

 private:
  std::FILE* file_;
  const fs::path& path_;
};

// Inflates a gzip stream chunk by chunk; the CRC and length in the gzip trailer are checked by
// zlib when the stream ends. A file may hold several gzip members one after another (pigz and
// `cat a.gz b.gz` write them): their contents are read as one stream, as gunzip reads them.
class GzipSource final : public Source {
 public:
  GzipSource(std::FILE* file, const fs::path& path) : file_(file), path_(path) {
    std::memset(&stream_, 0, sizeof(stream_));
    // 15 + 16: a maximal window, gzip wrapper only.
    if (inflateInit2(&stream_, 15 + 16) != Z_OK) fail(path_, "cannot initialise zlib");
  }
  ~GzipSource() override { inflateEnd(&stream_); }

  std::size_t read(uint8_t* dst, std::size_t n) override {
    stream_.next_out = dst;
    stream_.avail_out = static_cast<uInt>(n);
    while (stream_.avail_out > 0 && !ended_) {
      if (stream_.avail_in == 0) refill();
      // zlib may still hold output with no input left, so inflate before judging the end.
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        ended_ = !next_member();
      } else if (rc == Z_BUF_ERROR) {  // no progress possible
        if (stream_.avail_in == 0 && input_ended_)
          fail(path_, "the gzip stream ends early (the file is truncated)");
      } else if (rc != Z_OK) {
        fail(path_, fmt::format("corrupt gzip data ({})",
                                stream_.msg != nullptr ? stream_.msg : zError(rc)));
      }
    }
    return n - stream_.avail_out;
  }

  void finish() override {
    uint8_t byte;
    // Inflating on to the end of the stream also verifies the gzip trailer's checksum.
    if (read(&byte, 1) != 0) fail(path_, "trailing bytes after the data the header declares");
    if (stream_.avail_in == 0) refill();
    if (stream_.avail_in != 0) fail(path_, "trailing bytes after the gzip stream");
  }

 private:
  // After a member's end: true when another member follows (its magic 1f 8b is next), with
  // zlib reset to read it.
  bool next_member() {
    if (stream_.avail_in == 0) refill();
    if (stream_.avail_in == 0 || stream_.next_in[0] != 0x1f) return false;
    if (stream_.avail_in > 1 && stream_.next_in[1] != 0x8b) return false;
    if (inflateReset(&stream_) != Z_OK) fail(path_, "cannot reset zlib");
    return true;
  }

  void refill() {
    const std::size_t got = std::fread(input_, 1, sizeof(input_), file_);
    if (got == 0 && std::ferror(file_))
      fail(path_, fmt::format("read error ({})", std::strerror(errno)));
    input_ended_ = got == 0;
    stream_.next_in = input_;
    stream_.avail_in = static_cast<uInt>(got);
  }

  std::FILE* file_;
  const fs::path& path_;
  z_stream stream_;
  bool ended_ = false;        // the gzip stream is complete
  bool input_ended_ = false;  // the file has no more bytes
  uint8_t input_[1 << 16];
};

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

const char* idx_type_name(uint8_t code) {
  switch (static_cast<IdxType>(code)) {
    case IdxType::UByte:
      return "unsigned byte";
    case IdxType::SByte:
      return "signed byte";
    case IdxType::Short:
      return "int16";
    case IdxType::Int:
      return "int32";
    case IdxType::Float:
      return "float32";
    case IdxType::Double:
      return "float64";
  }
  return nullptr;
}

// Reads exactly n bytes of header, or fails saying the header is truncated.
void read_header(Source& source, uint8_t* dst, std::size_t n, const fs::path& path,
                 const char* part) {
  const std::size_t got = source.read(dst, n);
  if (got < n) fail(path, fmt::format("truncated header: the file ends inside the {}", part));
}

}  // namespace

IdxArray read_idx(const fs::path& path) {
  std::error_code ec;
  const bool is_file = fs::is_regular_file(path, ec);
  if (!is_file) fail(path, fs::exists(path, ec) ? "not a regular file" : "no such file");
  const uint64_t file_size = fs::file_size(path, ec);
  if (ec) fail(path, fmt::format("cannot get its size ({})", ec.message()));
  if (file_size == 0) fail(path, "the file is empty");

  File file(std::fopen(path.c_str(), "rb"));
  if (!file) fail(path, fmt::format("cannot open ({})", std::strerror(errno)));

  uint8_t first[2] = {0, 0};
  const std::size_t peeked = std::fread(first, 1, 2, file.get());
  const bool gzip = peeked == 2 && first[0] == 0x1f && first[1] == 0x8b;
  std::rewind(file.get());
  std::unique_ptr<Source> source;
  if (gzip)
    source = std::make_unique<GzipSource>(file.get(), path);
  else
    source = std::make_unique<RawSource>(file.get(), path);

  // Magic: two zero bytes, the element type, the number of dimensions.
  uint8_t magic[4];
  read_header(*source, magic, 4, path, "magic number");
  if (magic[0] != 0 || magic[1] != 0)
    fail(path, fmt::format("not an IDX file: it starts with bytes {:02x} {:02x}, expected 00 00 "
                           "(or a gzip file starting with 1f 8b)",
                           magic[0], magic[1]));
  const char* type_name = idx_type_name(magic[2]);
  if (type_name == nullptr)
    fail(path, fmt::format("invalid element type code 0x{:02x} (IDX knows 0x08, 0x09, 0x0b, "
                           "0x0c, 0x0d, 0x0e)",
                           magic[2]));
  if (static_cast<IdxType>(magic[2]) != IdxType::UByte)
    fail(path, fmt::format("element type 0x{:02x} ({}) is not supported: MNIST-format files "
                           "hold unsigned bytes (0x08)",
                           magic[2], type_name));
  const int64_t ndims = magic[3];
  if (ndims == 0 || ndims > kMaxDims)
    fail(path, fmt::format("invalid number of dimensions {} (expected 1 to {})", ndims, kMaxDims));

  uint8_t dim_bytes[4 * kMaxDims];
  read_header(*source, dim_bytes, 4 * ndims, path, "dimensions");
  IdxArray array;
  for (int64_t i = 0; i < ndims; ++i) {
    const uint32_t d = big_endian_u32(dim_bytes + 4 * i);
    if (d == 0) fail(path, fmt::format("dimension {} of {} is zero", i, ndims));
    array.dims.push_back(d);
  }
  const std::string dims_text = fmt::format("{}", fmt::join(array.dims, " x "));
  uint64_t elements = 1;
  for (int64_t d : array.dims) {
    if (static_cast<uint64_t>(d) > kMaxElements / elements)
      fail(path, fmt::format("absurd dimensions {}: more than 2^40 elements", dims_text));
    elements *= static_cast<uint64_t>(d);
  }

  // Check the claim against what the file can hold before reading any of it.
  const uint64_t header_size = 4 + 4 * static_cast<uint64_t>(ndims);
  if (!gzip) {
    const uint64_t available = file_size - header_size;
    if (available < elements)
      fail(path, fmt::format("truncated: the header declares {} = {} bytes of data but only {} "
                             "follow it",
                             dims_text, elements, available));
    if (available > elements)
      fail(path, fmt::format("{} trailing bytes after the {} = {} bytes the header declares",
                             available - elements, dims_text, elements));
  } else if (elements > kMaxGzipRatio * file_size + 1024) {
    fail(path, fmt::format("the header declares {} = {} bytes, more than a gzip file of {} "
                           "bytes can hold",
                           dims_text, elements, file_size));
  }

  // The buffer grows geometrically as data arrives, so memory follows the real content.
  uint64_t done = 0;
  while (done < elements) {
    const uint64_t chunk = std::min(elements - done, std::max<uint64_t>(uint64_t{1} << 20, done));
    array.data.resize(done + chunk);
    const std::size_t got = source->read(array.data.data() + done, chunk);
    done += got;
    if (got < chunk)
      fail(path, fmt::format("truncated: the header declares {} = {} bytes of data but the file "
                             "holds only {}",
                             dims_text, elements, done));
  }
  source->finish();
  array.sha256 =
      sha256_hex({{magic, 4}, {dim_bytes, static_cast<std::size_t>(4 * ndims)}, array.data});
  return array;
}

}  // namespace nabla::data
