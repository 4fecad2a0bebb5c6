#include "train/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "nabla/log.h"

namespace nabla::train {

Progress::Progress(ProgressMode mode) {
  quiet_ = mode == ProgressMode::Off;
  bar_ = mode == ProgressMode::Bar || (mode == ProgressMode::Auto && ::isatty(STDOUT_FILENO));
}

void Progress::start_epoch(int64_t epoch, int64_t epochs, int64_t num_batches,
                           int64_t first_batch) {
  epoch_ = epoch, epochs_ = epochs, num_batches_ = num_batches, first_batch_ = first_batch;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::update(int64_t batch, double loss, double examples_per_second) {
  if (!bar_ || quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool last = batch + 1 == num_batches_;
  if (!last && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 24;
  const int64_t done = batch + 1;
  const int filled = static_cast<int>(kWidth * done / std::max<int64_t>(num_batches_, 1));
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const int64_t since_start = done - first_batch_;
  const double eta = since_start > 0 ? elapsed / since_start * (num_batches_ - done) : 0.0;
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  fmt::print("\repoch {}/{} [{}] {}/{} loss {:.4f} {:.0f} ex/s ETA {:.0f}s\x1b[K", epoch_, epochs_,
             bar, done, num_batches_, loss, examples_per_second, eta);
  std::fflush(stdout);
  bar_drawn_ = true;
}

void Progress::end_epoch(const EpochMetrics& m, int64_t epochs) {
  if (quiet_) return;
  if (bar_drawn_) fmt::print("\r\x1b[K");
  bar_drawn_ = false;
  std::string line =
      fmt::format("epoch {}/{}  step {}  lr {:.4g}  train loss {:.4f} acc {:.2f}%", m.epoch, epochs,
                  m.step, m.lr, m.train_loss, 100.0 * m.train_accuracy);
  if (m.test_loss)
    line += fmt::format("  test loss {:.4f} acc {:.2f}%", *m.test_loss, 100.0 * *m.test_accuracy);
  line += fmt::format("  {:.1f}s ({:.0f} ex/s)", m.seconds, m.examples_per_second);
  if (m.skipped_steps) line += fmt::format("  skipped {}", m.skipped_steps);
  fmt::print("{}\n", line);
  std::fflush(stdout);
}

void Progress::message(const std::string& text) {
  if (bar_drawn_) {
    fmt::print("\r\x1b[K");
    std::fflush(stdout);
  }
  bar_drawn_ = false;
  log_message(LogLevel::Info, text);
}

}  // namespace nabla::train
