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

// Runs a command-line program's body: a std::exception (a nabla::Error, a bad number) becomes
// "error: <message>" on stderr and exit status 1, so every program reports failures alike.
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
