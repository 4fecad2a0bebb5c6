// A training program's command line as mnist_mlp declares it: the training options, and the
// [model] options hidden and dropout. Its defaults can be set before parse().
#pragma once

#include <vector>

#include "nabla/train/options.h"

namespace nabla::testing {

struct TrainingCommandLine {
  train::RunOptions options;
  std::vector<int64_t> hidden{256};
  double dropout = 0.0;
  train::CommandLine cli{"prog", "A test program."};

  TrainingCommandLine() {
    cli.add_training_options(options);
    cli.add({.name = "hidden", .help = "widths", .section = "model", .bounds = at_least(1)},
            hidden);
    cli.add({.name = "dropout", .help = "p", .section = "model", .bounds = half_open(0, 1)},
            dropout);
  }
  // argv without the program's name.
  bool parse(std::vector<const char*> flags) {
    flags.insert(flags.begin(), "prog");
    return cli.parse(static_cast<int>(flags.size()), flags.data());
  }
};

}  // namespace nabla::testing
