#include "core/files.h"

#include <fmt/chrono.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

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

fs::path temporary_beside(const fs::path& path) {
  static std::atomic<uint64_t> counter{0};
  return path.parent_path() / fmt::format(".{}.tmp.{}.{}", path.filename().string(),
                                          static_cast<long>(::getpid()), counter++);
}

FolderLock::FolderLock(const fs::path& folder, const std::string& what) {
  const fs::path file = folder / ".lock";
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  NABLA_CHECK(fd_ >= 0, "cannot lock {} '{}': {}", what, folder.string(), std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    std::ifstream in(file);
    std::string holder;
    std::getline(in, holder);
    ::close(fd_);
    fd_ = -1;
    NABLA_FAIL(
        "{} '{}' is in use by another run ({}); wait for it to finish, or choose another "
        "folder",
        what, folder.string(), holder.empty() ? "its lock is held" : holder);
  }
  char host[256] = "?";
  ::gethostname(host, sizeof(host) - 1);
  const std::string holder = fmt::format(
      "pid {} on {}, since {:%Y-%m-%d %H:%M:%S}", static_cast<long>(::getpid()), host,
      fmt::localtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
  // The holder's name is a courtesy for the message above: a failed write changes nothing else.
  if (::ftruncate(fd_, 0) == 0 && ::write(fd_, holder.data(), holder.size()) < 0) return;
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace nabla::files
