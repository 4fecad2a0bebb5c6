// Where the library's own messages go: "resumed from ...", "update skipped", "passed over a
// damaged checkpoint", interruptions, early stopping, a warning about the thread count. By
// default each is one line, Info on stdout and Warning on stderr (after "warning: "); a program
// that embeds nabla can
// send them elsewhere, or silence them with an empty sink. The trainer's progress bar and epoch
// lines are not messages: TrainerConfig.progress controls them.
//
//   std::vector<std::string> lines;
//   nabla::set_log_sink([&](nabla::LogLevel, const std::string& text) { lines.push_back(text); });
#pragma once

#include <functional>
#include <string>

namespace nabla {

enum class LogLevel { Info, Warning };

using LogSink = std::function<void(LogLevel level, const std::string& text)>;

// Replaces the sink (for every thread) and returns the previous one, so it can be restored.
LogSink set_log_sink(LogSink sink);

// Hands one message, without a trailing newline, to the sink, on the calling thread.
void log_message(LogLevel level, const std::string& text);

}  // namespace nabla
