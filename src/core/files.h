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

}  // namespace nabla::files
