#include "nabla/error.h"

#include <cstdio>
#include <filesystem>
#include <string_view>

namespace nabla {

const char* version() {
  return NABLA_VERSION_STRING;
}

int run_program(int argc, char** argv, int (*program)(int argc, char** argv)) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--version") {
      fmt::print("{} (nabla {})\n", std::filesystem::path(argv[0]).filename().string(), version());
      return 0;
    }
  auto report = [](const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
  };
  try {
    return program(argc, argv);
  } catch (const UsageError& e) {
    report(e);
    return 2;
  } catch (const std::exception& e) {
    report(e);
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
