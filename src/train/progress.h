// Progress output of the trainer: a bar redrawn in place on a terminal (batch k/n, loss, rate,
// ETA), or one plain line per epoch when stdout is not a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "nabla/train/trainer.h"

namespace nabla::train {

class Progress {
 public:
  explicit Progress(ProgressMode mode);
  void start_epoch(int64_t epoch, int64_t epochs, int64_t num_batches, int64_t first_batch);
  void update(int64_t batch, double loss, double examples_per_second);
  void end_epoch(const EpochMetrics& m, int64_t epochs);
  void message(const std::string& text);  // to the log sink (nabla/log.h), clearing the bar

 private:
  bool bar_ = false, quiet_ = false, bar_drawn_ = false;
  int64_t epoch_ = 0, epochs_ = 0, num_batches_ = 0, first_batch_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace nabla::train
