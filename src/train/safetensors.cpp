#include "nabla/train/safetensors.h"

#include "core/files.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

namespace nabla::io {
namespace {

using nlohmann::json;

long long g_fail_after = -1;

// Header lengths above this are not a checkpoint of ours, whatever the file says.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

// The header's own CRC-32 lives in the header, in metadata: computed with its eight hex digits
// as zeros, and required in every file that says it is nabla's, so that no flip can switch it
// off unnoticed (a flip in the key leaves nabla's file without it, which is refused).
constexpr const char* kHeaderCrcKey = "nabla.header_crc32";
constexpr const char* kHeaderCrcPlaceholder = "00000000";

// A dtype as a file may hold it: nabla's own (F32, I64), and the floating types of other writers,
// read into float32 (F16 and BF16 exactly, F64 rounded to nearest).
struct FileDType {
  const char* tag;
  std::size_t bytes;
  DType loaded;
};
constexpr FileDType kFileDTypes[] = {{"F32", 4, DType::Float32},
                                     {"I64", 8, DType::Int64},
                                     {"F16", 2, DType::Float32},
                                     {"BF16", 2, DType::Float32},
                                     {"F64", 8, DType::Float32}};

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // zero and subnormals
  else if (exponent == 31)
    magnitude =
        mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
  uint32_t bits;
  std::memcpy(&bits, &magnitude, 4);
  bits |= sign;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

// The `count` values of `raw` (little-endian, of the file's dtype) as float32 into `out`.
void widen_to_float(const FileDType& d, const char* raw, uint64_t count, float* out) {
  const std::string tag = d.tag;
  for (uint64_t i = 0; i < count; ++i) {
    if (tag == "F64") {
      double v;
      std::memcpy(&v, raw + 8 * i, 8);
      out[i] = static_cast<float>(v);
    } else {
      uint16_t h;
      std::memcpy(&h, raw + 2 * i, 2);
      if (tag == "F16") {
        out[i] = half_to_float(h);
      } else {
        const uint32_t bits = static_cast<uint32_t>(h) << 16;
        std::memcpy(out + i, &bits, 4);
      }
    }
  }
}

const char* dtype_tag(DType t) {
  return t == DType::Float32 ? "F32" : "I64";
}

std::string crc_hex(const void* data, std::size_t n, uLong crc = crc32(0L, Z_NULL, 0)) {
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {  // crc32 takes a uInt length
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk, n -= chunk;
  }
  return fmt::format("{:08x}", static_cast<uint32_t>(crc));
}

// Where the header's CRC digits stand in `text` (npos when the entry is not there exactly once).
std::size_t header_crc_position(const std::string& text) {
  const std::string entry = fmt::format("\"{}\":\"", kHeaderCrcKey);
  const std::size_t at = text.find(entry);
  if (at == std::string::npos || text.find(entry, at + 1) != std::string::npos)
    return std::string::npos;
  const std::size_t digits = at + entry.size();
  return digits + 8 < text.size() && text[digits + 8] == '"' ? digits : std::string::npos;
}

// The CRC-32 of the length bytes and the header text with its own CRC's digits as zeros.
std::string header_crc(const unsigned char (&len_bytes)[8], std::string text, std::size_t digits) {
  text.replace(digits, 8, kHeaderCrcPlaceholder);
  return crc_hex(text.data(), text.size(), crc32(crc32(0L, Z_NULL, 0), len_bytes, 8));
}

// A file descriptor that writes fully or throws, and closes itself.
class OutFile {
 public:
  explicit OutFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    NABLA_CHECK(fd_ >= 0, "cannot write '{}': {}", path, std::strerror(errno));
  }
  ~OutFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  void write(const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    if (g_fail_after >= 0) {
      const auto allowed =
          static_cast<std::size_t>(std::max<long long>(0, g_fail_after - written_));
      if (n > allowed) {
        write_raw(p, allowed);
        g_fail_after = -1;
        NABLA_FAIL("simulated crash while writing '{}'", path_);
      }
    }
    write_raw(p, n);
  }
  void sync_and_close() {
    NABLA_CHECK(::fsync(fd_) == 0, "cannot flush '{}': {}", path_, std::strerror(errno));
    const int fd = fd_;
    fd_ = -1;
    NABLA_CHECK(::close(fd) == 0, "cannot close '{}': {}", path_, std::strerror(errno));
  }

 private:
  void write_raw(const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      NABLA_CHECK(w > 0, "cannot write '{}': {}", path_, std::strerror(errno));
      p += w, n -= static_cast<std::size_t>(w), written_ += w;
    }
  }
  std::string path_;
  int fd_ = -1;
  long long written_ = 0;
};

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void save_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& metadata) {
  std::vector<Tensor> host;
  json header = json::object();
  json checksums = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    NABLA_CHECK(t.defined(), "save_safetensors: tensor '{}' is undefined", name);
    NABLA_CHECK(name != "__metadata__", "save_safetensors: '__metadata__' is a reserved name");
    Tensor h = t.to(Device::cpu()).contiguous();
    const uint64_t nbytes = static_cast<uint64_t>(h.numel()) * dtype_size(h.dtype());
    header[name] = {{"dtype", dtype_tag(h.dtype())},
                    {"shape", h.shape().dims},
                    {"data_offsets", {offset, offset + nbytes}}};
    checksums[name] = crc_hex(h.raw_data(), nbytes);
    offset += nbytes;
    host.push_back(std::move(h));
  }
  json meta = json::object();
  meta["format"] = "pt";  // as safetensors.torch writes it: PyTorch-side tools look for it
  for (const auto& [k, v] : metadata) meta[k] = v;
  meta["nabla.crc32"] = checksums.dump();
  meta[kHeaderCrcKey] = kHeaderCrcPlaceholder;
  header["__metadata__"] = meta;
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception&) {  // JSON strings are UTF-8; a name or entry was not
    NABLA_FAIL("save_safetensors '{}': a tensor name or metadata entry is not valid UTF-8", path);
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned
  const uint64_t header_len = text.size();
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(header_len >> (8 * i));
  const std::size_t digits = header_crc_position(text);
  NABLA_ASSERT(digits != std::string::npos, "save_safetensors: the header checksum entry is lost");
  text.replace(digits, 8, header_crc(len_bytes, text, digits));

  const std::filesystem::path final_path(path);
  const std::filesystem::path tmp_path = files::temporary_beside(final_path);
  try {
    OutFile out(tmp_path.string());
    out.write(len_bytes, 8);
    out.write(text.data(), text.size());
    for (const Tensor& h : host)
      out.write(h.raw_data(), static_cast<std::size_t>(h.numel()) * dtype_size(h.dtype()));
    out.sync_and_close();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp_path, ignored);
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(tmp_path, final_path, ec);
  NABLA_CHECK(!ec, "cannot move '{}' into place as '{}': {}", tmp_path.string(), path,
              ec.message());
  sync_directory(final_path.parent_path());
}

SafetensorsContents load_safetensors(const std::string& path) {
  files::require_regular_file(path, "safetensors file");
  std::ifstream in(path, std::ios::binary);
  NABLA_CHECK(in.good(), "cannot open '{}': permission denied", path);
  in.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  NABLA_CHECK(file_size >= 8, "'{}' is not a safetensors file: only {} bytes (truncated?)", path,
              file_size);
  unsigned char len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<uint64_t>(len_bytes[i]) << (8 * i);
  // torch.save writes a zip archive (since PyTorch 1.6) or, before, a pickle stream (protocol
  // 2 to 5); read as a header length, either start is more than the file holds.
  const bool fits = header_len <= kMaxHeaderBytes && header_len <= file_size - 8;
  const bool zip = std::memcmp(len_bytes, "PK\x03\x04", 4) == 0;
  const bool pickle = len_bytes[0] == 0x80 && len_bytes[1] >= 2 && len_bytes[1] <= 5;
  NABLA_CHECK(fits || !(zip || pickle),
              "'{}' is a PyTorch {} file (torch.save), not safetensors; convert it in Python with "
              "safetensors.torch.save_file(torch.load(path), 'weights.safetensors')",
              path, zip ? ".pt (zip archive)" : "pickle");
  NABLA_CHECK(fits,
              "'{}' is truncated or not a safetensors file: header length {} but the file has {} "
              "bytes",
              path, header_len, file_size);
  std::string text(header_len, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_len));
  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception& e) {
    NABLA_FAIL("'{}' has a corrupted header (invalid JSON: {})", path, e.what());
  }
  NABLA_CHECK(header.is_object(), "'{}' has a corrupted header (not a JSON object)", path);
  const uint64_t data_size = file_size - 8 - header_len;

  SafetensorsContents out;
  json checksums = json::object();
  if (header.contains("__metadata__")) {
    const json& meta = header["__metadata__"];
    NABLA_CHECK(meta.is_object(), "'{}': __metadata__ must be an object of strings", path);
    for (const auto& [k, v] : meta.items()) {
      NABLA_CHECK(v.is_string(), "'{}': metadata entry '{}' is not a string", path, k);
      out.metadata[k] = v.get<std::string>();
    }
  }
  // nabla's own files are checked whole: the header by its CRC, each tensor by the table's.
  const bool ours = out.metadata.count("nabla.format") > 0;
  if (out.metadata.count(kHeaderCrcKey) || ours) {
    const std::size_t digits = header_crc_position(text);
    NABLA_CHECK(digits != std::string::npos,
                "'{}' is corrupted: a nabla file without its header checksum (or one written by a "
                "nabla older than checkpoint format 2)",
                path);
    NABLA_CHECK(text.compare(digits, 8, header_crc(len_bytes, text, digits)) == 0,
                "'{}' is corrupted: the header (metadata, state, checksums) does not match its "
                "checksum",
                path);
    out.metadata.erase(kHeaderCrcKey);
  }
  if (auto it = out.metadata.find("nabla.crc32"); it != out.metadata.end()) {
    checksums = json::parse(it->second, nullptr, false);
    NABLA_CHECK(checksums.is_object(), "'{}': corrupted checksum table", path);
    out.metadata.erase(it);
  } else {
    NABLA_CHECK(!ours, "'{}' is corrupted: a nabla file without its tensor checksums", path);
  }

  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    NABLA_CHECK(entry.is_object() && entry.contains("dtype") && entry.contains("shape") &&
                    entry.contains("data_offsets"),
                "'{}': tensor '{}' needs dtype, shape and data_offsets", path, name);
    const json& dt = entry["dtype"];
    const FileDType* file_dtype = nullptr;
    for (const FileDType& d : kFileDTypes)
      if (dt.is_string() && dt == d.tag) file_dtype = &d;
    NABLA_CHECK(file_dtype != nullptr,
                "'{}': tensor '{}' has dtype {}, nabla reads F32, I64, F16, BF16 and F64", path,
                name, dt.dump());
    const DType dtype = file_dtype->loaded;
    const json& sh = entry["shape"];
    NABLA_CHECK(sh.is_array() && sh.size() <= 16, "'{}': tensor '{}' has an invalid shape", path,
                name);
    std::vector<int64_t> dims;
    uint64_t numel = 1;
    for (const json& d : sh) {
      NABLA_CHECK(d.is_number_unsigned() && d.get<uint64_t>() <= data_size,
                  "'{}': tensor '{}' has an invalid shape {}", path, name, sh.dump());
      dims.push_back(d.get<int64_t>());
      numel *= d.get<uint64_t>();
      NABLA_CHECK(numel <= data_size, "'{}': tensor '{}' is larger than the file", path, name);
    }
    const json& off = entry["data_offsets"];
    NABLA_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() &&
                    off[1].is_number_unsigned(),
                "'{}': tensor '{}' has invalid data_offsets", path, name);
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    NABLA_CHECK(begin <= end && end <= data_size,
                "'{}' is truncated: tensor '{}' needs bytes [{}, {}) of a {}-byte data section",
                path, name, begin, end, data_size);
    NABLA_CHECK(end - begin == numel * file_dtype->bytes,
                "'{}': tensor '{}' has {} bytes for shape {} of {}", path, name, end - begin,
                sh.dump(), file_dtype->tag);
    spans.push_back({begin, end, name});
    Tensor t = Tensor::empty(Shape(dims), {dtype, Device::cpu()});
    const bool widened = file_dtype->bytes != dtype_size(dtype);
    std::vector<char> raw(widened ? end - begin : 0);
    char* bytes = widened ? raw.data() : static_cast<char*>(t.raw_data());
    in.seekg(static_cast<std::streamoff>(8 + header_len + begin));
    in.read(bytes, static_cast<std::streamsize>(end - begin));
    NABLA_CHECK(in.good(), "'{}': could not read tensor '{}'", path, name);
    if (checksums.contains(name)) {
      NABLA_CHECK(checksums[name] == crc_hex(bytes, end - begin),
                  "'{}' is corrupted: the checksum of tensor '{}' does not match", path, name);
    } else {
      NABLA_CHECK(!ours, "'{}' is corrupted: tensor '{}' has no checksum", path, name);
    }
    if (widened) widen_to_float(*file_dtype, bytes, numel, t.data<float>());
    out.tensors.emplace(name, std::move(t));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });
  uint64_t at = 0;
  for (const Span& s : spans) {
    NABLA_CHECK(s.begin == at, "'{}': tensor '{}' {} (byte {} expected, {} found)", path, s.name,
                s.begin < at ? "overlaps another" : "leaves a hole before it", at, s.begin);
    at = s.end;
  }
  NABLA_CHECK(at == data_size, "'{}' has {} unexpected trailing bytes", path, data_size - at);
  for (const auto& [name, crc] : checksums.items())
    NABLA_CHECK(out.tensors.count(name), "'{}' is corrupted: its tensor '{}' is missing", path,
                name);
  return out;
}

namespace testing {
void fail_next_write_after(long long bytes) {
  g_fail_after = bytes;
}
}  // namespace testing

}  // namespace nabla::io
