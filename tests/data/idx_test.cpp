// IDX reader: round trips of generated files (raw and gzip) and a table of malformed files,
// each of which must give a nabla::Error naming the file and the problem.
#include <gtest/gtest.h>

#include "nabla/data/idx.h"
#include "nabla/error.h"
#include "support/idx_writer.h"

namespace nabla::data {
namespace {

using testing::gzip_bytes;
using testing::idx_bytes;
using testing::TempDir;
using testing::write_file;
using testing::write_idx;

std::vector<uint8_t> pattern(std::size_t n) {
  std::vector<uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i * 7 + i / 251) % 256);
  return v;
}

TEST(Idx, RoundTripRawAndGzip) {
  TempDir dir;
  for (bool gzip : {false, true}) {
    const auto path = dir / (gzip ? "a.gz" : "a");
    const std::vector<uint8_t> data = pattern(3 * 4 * 5);
    write_idx(path, {3, 4, 5}, data, gzip);
    const IdxArray a = read_idx(path);
    EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 4, 5}));
    EXPECT_EQ(a.data, data);
  }
}

TEST(Idx, GzipDetectedByContentNotName) {
  TempDir dir;
  const std::vector<uint8_t> data = pattern(7);
  write_idx(dir / "compressed-without-suffix", {7}, data, /*gzip=*/true);
  write_idx(dir / "raw-with-suffix.gz", {7}, data, /*gzip=*/false);
  EXPECT_EQ(read_idx(dir / "compressed-without-suffix").data, data);
  EXPECT_EQ(read_idx(dir / "raw-with-suffix.gz").data, data);
}

TEST(Idx, LargeGzipFileReadInChunks) {
  // Several MiB, so the buffer grows over many reads and many inflate calls.
  TempDir dir;
  const std::vector<uint8_t> data = pattern(3000 * 28 * 28);
  write_idx(dir / "big.gz", {3000, 28, 28}, data, /*gzip=*/true);
  const IdxArray a = read_idx(dir / "big.gz");
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3000, 28, 28}));
  EXPECT_EQ(a.data, data);
}

struct BadFile {
  const char* name;
  std::vector<uint8_t> bytes;  // written as is
  const char* message;         // expected in the error, beside the file name
};

std::vector<uint8_t> with(std::vector<uint8_t> bytes, const std::vector<uint8_t>& extra) {
  bytes.insert(bytes.end(), extra.begin(), extra.end());
  return bytes;
}
std::vector<uint8_t> cut(std::vector<uint8_t> bytes, std::size_t drop) {
  bytes.resize(bytes.size() - drop);
  return bytes;
}
std::vector<uint8_t> flip(std::vector<uint8_t> bytes, std::size_t at) {
  bytes[at] ^= 0xff;
  return bytes;
}

std::vector<BadFile> bad_files() {
  const std::vector<uint8_t> good = idx_bytes({10, 4, 4}, pattern(160));
  const std::vector<uint8_t> good_gz = gzip_bytes(good);
  // `good` in two gzip members.
  const std::vector<uint8_t> first_half_gz = gzip_bytes({good.begin(), good.begin() + 80}),
                             second_half_gz = gzip_bytes({good.begin() + 80, good.end()});
  const uint32_t big = 1u << 31;
  return {
      {"empty", {}, "the file is empty"},
      {"wrong_magic", with({0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1}, {7}), "not an IDX file"},
      {"text", {'h', 'e', 'l', 'l', 'o', '\n'}, "not an IDX file"},
      {"unsupported_type", idx_bytes({4}, pattern(16), 0x0d), "element type 0x0d (float32)"},
      {"invalid_type", idx_bytes({4}, pattern(4), 0x07), "invalid element type code 0x07"},
      {"zero_ndims", {0, 0, 8, 0}, "invalid number of dimensions 0"},
      {"zero_dim", idx_bytes({5, 0, 3}, {}), "dimension 1 of 3 is zero"},
      {"absurd_dims", idx_bytes({big, big, big}, pattern(64)), "absurd dimensions"},
      {"absurd_dims_gzip", gzip_bytes(idx_bytes({big, big, big}, pattern(64))),
       "absurd dimensions"},
      {"huge_claim_gzip", gzip_bytes(idx_bytes({60000, 28, 2800}, pattern(64))),
       "more than a gzip file of"},
      {"short_magic", {0, 0, 8}, "truncated header: the file ends inside the magic number"},
      {"truncated_header", {0, 0, 8, 3, 0, 0, 0, 10, 0, 0}, "truncated header"},
      {"truncated_payload", cut(good, 5), "truncated: the header declares 10 x 4 x 4 = 160"},
      {"lying_header_gzip", gzip_bytes(idx_bytes({1000}, pattern(10))),
       "truncated: the header declares 1000 = 1000 bytes of data but the file holds only 10"},
      {"trailing_garbage", with(good, {1, 2, 3}), "3 trailing bytes"},
      {"trailing_data_in_gzip", gzip_bytes(with(good, {1, 2, 3})), "trailing bytes after the data"},
      {"trailing_garbage_after_gzip", with(good_gz, {1, 2, 3}),
       "trailing bytes after the gzip stream"},
      {"truncated_gzip", cut(good_gz, good_gz.size() / 2), "the gzip stream ends early"},
      {"gzip_bad_checksum", flip(good_gz, good_gz.size() - 6), "corrupt gzip data"},
      {"gzip_corrupt_header", flip(good_gz, 3), "corrupt gzip data"},
      {"second_member_truncated", with(first_half_gz, cut(second_half_gz, 4)),
       "the gzip stream ends early"},
      {"second_member_corrupt", with(first_half_gz, flip(second_half_gz, 3)), "corrupt gzip data"},
  };
}

void expect_idx_error(const std::filesystem::path& path, const std::string& message) {
  try {
    read_idx(path);
    ADD_FAILURE() << path << ": no error, expected one saying '" << message << "'";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path.string()), std::string::npos) << "the file is not named: " << what;
    EXPECT_NE(what.find(message), std::string::npos) << "expected '" << message << "' in: " << what;
  }
}

TEST(Idx, MalformedFilesGiveClearErrors) {
  TempDir dir;
  for (const BadFile& bad : bad_files()) {
    SCOPED_TRACE(bad.name);
    write_file(dir / bad.name, bad.bytes);
    expect_idx_error(dir / bad.name, bad.message);
  }
}

TEST(Idx, CorruptGzipPayloadIsAnError) {
  // A flipped byte in the middle of the deflate stream: zlib reports bad data or the checksum
  // disagrees; either way an error, never garbage.
  TempDir dir;
  const std::vector<uint8_t> gz = gzip_bytes(idx_bytes({2000}, pattern(2000)));
  for (std::size_t at : {gz.size() / 3, gz.size() / 2, gz.size() * 2 / 3}) {
    write_file(dir / "corrupt.gz", flip(gz, at));
    expect_idx_error(dir / "corrupt.gz", "");  // any message, as long as it names the file
  }
}

// Several gzip members one after another (pigz, `cat a.gz b.gz`) hold one stream, as gunzip
// reads them; the header may end inside one member and the data run over several.
TEST(Idx, MultiMemberGzip) {
  TempDir dir;
  const std::vector<uint8_t> whole = idx_bytes({6, 5}, pattern(30));
  const std::vector<uint8_t> head(whole.begin(), whole.begin() + 6),
      middle(whole.begin() + 6, whole.begin() + 20), tail(whole.begin() + 20, whole.end());
  write_file(dir / "members.gz",
             with(with(gzip_bytes(head), gzip_bytes(middle)), gzip_bytes(tail)));
  write_file(dir / "raw", whole);
  const IdxArray a = read_idx(dir / "members.gz");
  EXPECT_EQ(a.dims, (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(a.data, pattern(30));
  EXPECT_EQ(a.sha256, read_idx(dir / "raw").sha256);
}

TEST(Idx, MissingFileAndDirectory) {
  TempDir dir;
  expect_idx_error(dir / "does-not-exist", "no such file");
  expect_idx_error(dir.path(), "not a regular file");
}

}  // namespace
}  // namespace nabla::data
