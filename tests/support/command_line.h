// A training program's command line as mnist_mlp declares it: the training options, and the
// [model] options hidden and dropout. Its defaults can be set before parse().
#pragma once

#include <regex>
#include <set>
#include <sstream>
#include <string>
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

// The flags a help text lists ("--lr", "--help"), from its lines that start with one.
inline std::set<std::string> flags_in(const std::string& help) {
  std::set<std::string> out;
  const std::regex flag(R"(^  (?:-h, )?(--[a-z0-9-]+))");
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, flag)) out.insert(m[1]);
  }
  return out;
}

}  // namespace nabla::testing
