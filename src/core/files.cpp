#include "core/files.h"

#include <unistd.h>

#include "nabla/error.h"

namespace nabla::files {
namespace {

namespace fs = std::filesystem;

const char* kind(fs::file_type type) {
  switch (type) {
    case fs::file_type::directory:
      return "a folder";
    case fs::file_type::fifo:
      return "a FIFO";
    case fs::file_type::socket:
      return "a socket";
    case fs::file_type::block:
    case fs::file_type::character:
      return "a device";
    default:
      return "not a regular file";
  }
}

}  // namespace

void require_regular_file(const fs::path& path, const std::string& what) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  NABLA_CHECK(fs::exists(status), "{} '{}': no such file", what, path.string());
  NABLA_CHECK(fs::is_regular_file(status), "{} '{}' is {}, expected a regular file", what,
              path.string(), kind(status.type()));
}

void require_writable_file(const fs::path& path, const std::string& what) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (fs::exists(status)) {
    NABLA_CHECK(fs::is_regular_file(status) || fs::is_character_file(status),
                "{} '{}' is {}, expected a regular file", what, path.string(), kind(status.type()));
    return;
  }
  const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  NABLA_CHECK(fs::is_directory(folder, ec), "{} '{}': its folder '{}' does not exist", what,
              path.string(), folder.string());
}

void require_writable_folder(const fs::path& path, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fs::create_directories(path, ec);
  NABLA_CHECK(
      fs::is_directory(path, ec), "{} '{}' {}", what, path.string(),
      fs::exists(path) ? "is not a folder" : fmt::format("cannot be created ({})", ec.message()));
  // access() answers for this process's rights, which is what the writes will meet.
  NABLA_CHECK(::access(path.c_str(), W_OK | X_OK) == 0,
              "{} '{}' is not writable: files cannot be created in it", what, path.string());
}

}  // namespace nabla::files
