// Paths a program was given, checked before they are opened or after the work: a FIFO or a
// device would block or stream forever, a folder would read as an empty file, and a folder that
// cannot be written would fail only at the first checkpoint, after an epoch of work.
#pragma once

#include <filesystem>
#include <string>

namespace nabla::files {

// Throws a nabla::Error naming `what` ("config file", ...) and `path` unless the path is an
// existing regular file (symlinks followed).
void require_regular_file(const std::filesystem::path& path, const std::string& what);
// For a file about to be written: it does not exist yet (and its folder does), or is a regular
// file or a character device (/dev/null, /dev/stdout); a FIFO, a folder or a socket throws.
void require_writable_file(const std::filesystem::path& path, const std::string& what);
// Creates the folder (and its parents) when missing; throws unless it then is a folder in which
// this process can create files.
void require_writable_folder(const std::filesystem::path& path, const std::string& what);

// A name for the temporary file that is renamed over `path` once written: beside it (the rename
// stays within one file system), hidden, and unique to this process and call:
// ".NAME.tmp.PID.N".
std::filesystem::path temporary_beside(const std::filesystem::path& path);

// An exclusive lock on a folder, held while the object lives (and released by the kernel when
// the process dies, however it dies): the file FOLDER/.lock, which names the holder.
class FolderLock {
 public:
  // Throws a nabla::Error naming the holder when another process (or another lock in this one)
  // holds it. `what` names the folder's use in the message ("checkpoint folder").
  FolderLock(const std::filesystem::path& folder, const std::string& what);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace nabla::files
