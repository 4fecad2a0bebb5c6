// The library's message sink (nabla/log.h).
#include "nabla/log.h"

#include <fmt/format.h>

#include <cstdio>
#include <mutex>

namespace nabla {
namespace {

void print_line(LogLevel level, const std::string& text) {
  std::FILE* out = level == LogLevel::Warning ? stderr : stdout;
  // What the program printed before comes first.
  if (out == stderr) std::fflush(stdout);
  fmt::print(out, "{}{}\n", level == LogLevel::Warning ? "warning: " : "", text);
  std::fflush(out);
}

std::mutex g_mutex;
LogSink g_sink = print_line;

}  // namespace

LogSink set_log_sink(LogSink sink) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::swap(g_sink, sink);
  return sink;
}

void log_message(LogLevel level, const std::string& text) {
  LogSink sink;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    sink = g_sink;
  }
  // Called outside the lock, so that a sink may log, or replace itself.
  if (sink) sink(level, text);
}

}  // namespace nabla
