#include "nabla/error.h"

#include <cstdio>

namespace nabla {

int run_program(int argc, char** argv, int (*program)(int argc, char** argv)) {
  try {
    return program(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}

}  // namespace nabla

namespace nabla::detail {

void throw_error(const char* /*file*/, int /*line*/, const std::string& message) {
  // User errors carry the op and the values; the source location would only distract.
  throw Error(message);
}

void throw_internal(const char* file, int line, const char* cond, const std::string& message) {
  throw Error(fmt::format("internal error: {} ({} failed at {}:{}); please report this as a bug",
                          message, cond, file, line));
}

}  // namespace nabla::detail
