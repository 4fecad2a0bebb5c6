#include "nabla/train/safetensors.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/gradcheck.h"

using namespace nabla;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  fs::path dir =
      fs::temp_directory_path() / ("nabla_safetensors_" + std::to_string(::getpid()) + "_" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

io::TensorMap sample() {
  return {{"model.weight", Tensor::arange(6).reshape({2, 3})},
          {"step", Tensor::from_vector(std::vector<int64_t>{42}, {1})},
          {"empty", Tensor::zeros({0})}};
}

}  // namespace

TEST(Safetensors, RoundTrip) {
  const fs::path file = temp_dir() / "a.safetensors";
  io::save_safetensors(file, sample(), {{"format", "nabla"}});
  const auto loaded = io::load_safetensors(file);
  ASSERT_EQ(loaded.tensors.size(), 3u);
  EXPECT_EQ(loaded.tensors.at("model.weight").shape(), Shape({2, 3}));
  nabla::testing::expect_close(loaded.tensors.at("model.weight"), {0, 1, 2, 3, 4, 5}, 0, 0);
  EXPECT_EQ(loaded.tensors.at("step").to_vector<int64_t>(), std::vector<int64_t>{42});
  EXPECT_EQ(loaded.metadata.at("format"), "nabla");
  EXPECT_EQ(loaded.metadata.count("nabla.crc32"), 0u);
}

// An independent reading of the bytes, as any safetensors reader would do it.
TEST(Safetensors, FileFollowsTheFormat) {
  const fs::path file = temp_dir() / "b.safetensors";
  io::save_safetensors(file, sample());
  const std::string bytes = read_all(file);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ((8 + n) % 8, 0u);
  const auto& w = header.at("model.weight");
  EXPECT_EQ(w.at("dtype"), "F32");
  EXPECT_EQ(w.at("shape"), nlohmann::json({2, 3}));
  const uint64_t begin = w.at("data_offsets")[0], end = w.at("data_offsets")[1];
  ASSERT_EQ(end - begin, 24u);
  float values[6];
  std::memcpy(values, bytes.data() + 8 + n + begin, 24);
  EXPECT_EQ(values[5], 5.0f);
  EXPECT_EQ(header.at("step").at("dtype"), "I64");
}

TEST(Safetensors, MalformedFilesGiveClearErrors) {
  const fs::path dir = temp_dir();
  const fs::path good = dir / "good.safetensors";
  io::save_safetensors(good, sample());
  const std::string bytes = read_all(good);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  auto with_header = [&](std::string header) {
    header.append((8 - header.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(header.size() >> (8 * i));
    return out + header + bytes.substr(8 + n);
  };
  std::string flipped = bytes;
  flipped[bytes.size() - 9] ^= 0x40;  // inside model.weight's data
  const std::string huge_len = std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}";
  struct Case {
    std::string name, contents, expected;
  };
  const std::vector<Case> cases = {
      {"empty", "", "only 0 bytes"},
      {"short", bytes.substr(0, 5), "only 5 bytes"},
      {"truncated_header", bytes.substr(0, 8 + n / 2), "truncated"},
      {"truncated_data", bytes.substr(0, bytes.size() - 4), "truncated"},
      {"huge_header_length", huge_len, "header length"},
      {"not_json", with_header("{not json"), "invalid JSON"},
      {"not_object", with_header("[1,2]"), "not a JSON object"},
      {"bad_dtype", with_header(R"({"x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})"),
       "dtype"},
      {"offsets_out_of_range",
       with_header(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4000]}})"), "truncated"},
      {"size_mismatch", with_header(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}})"),
       "bytes for shape"},
      {"absurd_shape",
       with_header(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})"),
       "invalid shape"},
      {"trailing_bytes", bytes + "junk", "trailing"},
      {"corrupted_bytes", flipped, "checksum"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path p = dir / (c.name + ".safetensors");
    write_all(p, c.contents);
    nabla::testing::expect_error([&] { io::load_safetensors(p); }, c.expected);
  }
  nabla::testing::expect_error([&] { io::load_safetensors(dir / "missing.safetensors"); },
                               "no such file");
}

TEST(Safetensors, CrashDuringWriteKeepsThePreviousFile) {
  const fs::path dir = temp_dir();
  const fs::path file = dir / "ckpt.safetensors";
  io::save_safetensors(file, sample(), {{"version", "1"}});
  for (long long cut : {0LL, 7LL, 40LL, 200LL}) {
    io::testing::fail_next_write_after(cut);
    nabla::testing::expect_error(
        [&] {
          io::save_safetensors(file, {{"other", Tensor::ones({100})}}, {{"version", "2"}});
        },
        "simulated crash");
    const auto loaded = io::load_safetensors(file);
    EXPECT_EQ(loaded.metadata.at("version"), "1");
  }
  // No temporary files are left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

// A file that says it is nabla's is checked whole: its header by its own checksum, every tensor
// by the table's. Edited tables, or a lost header checksum, are refused; a foreign file (no
// nabla entries) loads as it is.
TEST(Safetensors, NablaFilesAreCheckedWhole) {
  const fs::path dir = temp_dir();
  const fs::path good = dir / "good.safetensors";
  io::save_safetensors(good, sample(), {{"nabla.format", "weights"}});
  const std::string bytes = read_all(good);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  const nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
  auto rewritten = [&](void (*edit)(nlohmann::json & meta, nlohmann::json & crcs)) {
    nlohmann::json h = header;
    nlohmann::json crcs =
        nlohmann::json::parse(h["__metadata__"]["nabla.crc32"].get<std::string>());
    edit(h["__metadata__"], crcs);
    if (!crcs.is_null()) h["__metadata__"]["nabla.crc32"] = crcs.dump();
    std::string text = h.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(text.size() >> (8 * i));
    return out + text + bytes.substr(8 + n);
  };
  using J = nlohmann::json;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no_table", rewritten([](J& m, J& c) { m.erase("nabla.crc32"), c = J(); })},
      {"tensor_missing_from_table", rewritten([](J&, J& c) { c.erase("step"); })},
      {"table_names_a_missing_tensor", rewritten([](J&, J& c) { c["ghost"] = "00000000"; })},
      {"no_header_checksum", rewritten([](J& m, J&) { m.erase("nabla.header_crc32"); })},
      {"edited_metadata", rewritten([](J& m, J&) { m["nabla.format"] = "checkpoint"; })},
  };
  for (const auto& [name, contents] : cases) {
    SCOPED_TRACE(name);
    write_all(dir / name, contents);
    nabla::testing::expect_error([&] { io::load_safetensors(dir / name); }, "is corrupted");
  }
  // Without any nabla entry the file is a foreign one: nothing to check it against.
  write_all(dir / "foreign", rewritten([](J& m, J& c) {
              m = J::object();
              c = J();
            }));
  EXPECT_EQ(io::load_safetensors(dir / "foreign").tensors.size(), 3u);
}

// JSON holds UTF-8 only: other bytes in a name or a metadata entry are a nabla::Error on save.
TEST(Safetensors, EntriesThatAreNotUtf8AreErrors) {
  const fs::path file = temp_dir() / "u.safetensors";
  nabla::testing::expect_error(
      [&] {
        io::save_safetensors(file, sample(), {{"note", std::string("caf\xe9")}});
      },
      "not valid UTF-8");
  EXPECT_FALSE(fs::exists(file));
}

namespace {
// A safetensors file as another writer makes it: the given header entries and data bytes.
std::string foreign_file(const nlohmann::json& header, const std::string& data) {
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(text.size() >> (8 * i));
  return out + text + data;
}
template <typename T>
std::string bytes_of(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}
}  // namespace

TEST(Safetensors, HalfBfloatAndDoubleFilesReadAsFloat32) {
  const fs::path file = temp_dir() / "mixed.safetensors";
  // fp16: 1, -2, 65504 (the largest), 2^-24 (the smallest subnormal), inf; bf16: 1.5, -0.25;
  // f64: 0.1 (rounded to the nearest float), 3.
  const std::string f16 = bytes_of<uint16_t>({0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00});
  const std::string bf16 = bytes_of<uint16_t>({0x3fc0, 0xbe80});
  const std::string f64 = bytes_of<double>({0.1, 3.0});
  const nlohmann::json header = {
      {"h", {{"dtype", "F16"}, {"shape", {5}}, {"data_offsets", {0, 10}}}},
      {"b", {{"dtype", "BF16"}, {"shape", {2}}, {"data_offsets", {10, 14}}}},
      {"d", {{"dtype", "F64"}, {"shape", {2, 1}}, {"data_offsets", {14, 30}}}},
      {"__metadata__", {{"format", "pt"}}}};
  write_all(file, foreign_file(header, f16 + bf16 + f64));
  const auto loaded = io::load_safetensors(file);
  EXPECT_EQ(loaded.tensors.at("h").dtype(), DType::Float32);
  EXPECT_EQ(loaded.tensors.at("h").to_vector<float>(),
            (std::vector<float>{1.0f, -2.0f, 65504.0f, 0x1p-24f, INFINITY}));
  EXPECT_EQ(loaded.tensors.at("b").to_vector<float>(), (std::vector<float>{1.5f, -0.25f}));
  EXPECT_EQ(loaded.tensors.at("d").shape(), Shape({2, 1}));
  EXPECT_EQ(loaded.tensors.at("d").to_vector<float>(), (std::vector<float>{0.1f, 3.0f}));
}

TEST(Safetensors, OurFilesSayFormatPt) {
  const fs::path file = temp_dir() / "pt.safetensors";
  io::save_safetensors(file, sample());
  EXPECT_EQ(io::load_safetensors(file).metadata.at("format"), "pt");
}

TEST(Safetensors, TorchSaveFilesAreNamedAsSuch) {
  const fs::path dir = temp_dir();
  write_all(dir / "model.pt", std::string("PK\x03\x04", 4) + std::string(60, '\0'));
  nabla::testing::expect_error([&] { io::load_safetensors(dir / "model.pt"); },
                               ".pt (zip archive)");
  write_all(dir / "old.pt", std::string("\x80\x02\x8a\x0a", 4) + std::string(60, '\0'));
  nabla::testing::expect_error([&] { io::load_safetensors(dir / "old.pt"); }, "pickle");
}
