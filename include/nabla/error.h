// nabla::Error and the two kinds of checks.
//   NABLA_CHECK(cond, "fmt {}", args...)  a user mistake: throws nabla::Error with the message.
//   NABLA_ASSERT(cond, "fmt {}", args...) one of our own invariants: a bug, please report it.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace nabla {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A mistake in a program's command line or configuration (an unknown flag, a bad value): the
// command-line layer (nabla/train/options.h) throws it, and run_program exits with status 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// The library's version, "major.minor.patch".
const char* version();

// Runs a command-line program's body, so that every program behaves alike: --version prints
// "<program> (nabla <version>)" and exits 0; a std::exception (a nabla::Error, a bad number)
// becomes "error: <message>" on stderr, after what the program printed to stdout, and exit
// status 1, or 2 for a UsageError.
//   int main(int argc, char** argv) { return nabla::run_program(argc, argv, run); }
int run_program(int argc, char** argv, int (*program)(int argc, char** argv));

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const std::string& message);
[[noreturn]] void throw_internal(const char* file, int line, const char* cond,
                                 const std::string& message);
}  // namespace detail

}  // namespace nabla

#define NABLA_CHECK(cond, ...)                                                               \
  do {                                                                                       \
    if (!(cond)) ::nabla::detail::throw_error(__FILE__, __LINE__, fmt::format(__VA_ARGS__)); \
  } while (0)

#define NABLA_ASSERT(cond, ...)                                                             \
  do {                                                                                      \
    if (!(cond))                                                                            \
      ::nabla::detail::throw_internal(__FILE__, __LINE__, #cond, fmt::format(__VA_ARGS__)); \
  } while (0)

#define NABLA_FAIL(...) ::nabla::detail::throw_error(__FILE__, __LINE__, fmt::format(__VA_ARGS__))
