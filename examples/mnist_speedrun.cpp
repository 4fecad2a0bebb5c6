// MNIST to 99 % test accuracy as fast as the machine allows, and the ladder of changes that gets
// there from PyTorch's MNIST example (examples/mnist_speedrun.h; docs/speedrun.md has the table).
//
//   mnist_speedrun                   # the last rung, seed 0
//   mnist_speedrun --seeds 10        # the last rung over seeds 0..9: median time, seeds at 99 %
//   mnist_speedrun --rung all --plot speedrun.svg   # every rung, and accuracy against time
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include <nabla/plot/svg.h>

#include "mnist_speedrun.h"

using namespace nabla;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Test accuracy against seconds of training, one line per rung, on a log time axis.
void draw(const std::vector<speedrun::Result>& results, double target, const std::string& path) {
  plot::LineChart chart{.title = "MNIST speedrun: test accuracy against training time",
                        .x_label = "seconds of training (log scale)",
                        .y_label = "test accuracy (%)",
                        .log_x = true};
  double first = 1e30, last = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    plot::Series s{.label = fmt::format("rung {}", i), .markers = true};
    for (const speedrun::Check& c : results[i].checks) {
      s.x.push_back(c.seconds);
      s.y.push_back(100.0 * c.accuracy);
      first = std::min(first, c.seconds), last = std::max(last, c.seconds);
    }
    chart.series.push_back(s);
  }
  chart.series.push_back({.label = fmt::format("{:g} %", 100 * target),
                          .x = {first / 1.5, last * 1.5},
                          .y = {100 * target, 100 * target},
                          .color = "#888888",
                          .dashed = true});
  plot::write_file(path, plot::to_svg(chart));
}

int run(int argc, char** argv) {
  const auto& ladder = speedrun::ladder();
  const int rungs = static_cast<int>(ladder.size());
  std::string about =
      "Trains a small CNN on MNIST until its test accuracy first reaches the target, and prints "
      "the\nseconds of training that took (steps and test checks; not the loading or the model's "
      "building).\nIt exits 1 when a run ends without reaching the target.\n\nThe ladder:\n";
  for (int r = 0; r < rungs; ++r) about += fmt::format("  {}  {}\n", r, ladder[r].change);
  train::RunOptions options;
  std::string rung_text = "last", plot_path;
  int64_t seed = 0, seeds = 1;
  double target = 0.99;
  train::CommandLine cli("mnist_speedrun", about);
  cli.add_data_options(options);
  cli.add({.name = "rung",
           .help = "which rung of the ladder to run (all: each in turn)",
           .value_name = "N|last|all"},
          rung_text);
  cli.add(
      {.name = "seed", .help = "the seed of the weights and the data order", .bounds = at_least(0)},
      seed);
  cli.add({.name = "seeds",
           .help = "run seeds S .. S+K-1 and print the median time and how many reached the target",
           .value_name = "K",
           .bounds = at_least(1)},
          seeds);
  cli.add({.name = "target",
           .help = "the test accuracy to reach, as a fraction",
           .bounds = Bounds{.min = 0, .max = 1, .min_open = true}},
          target);
  cli.add({.name = "plot",
           .help = "with --rung all: an SVG of test accuracy against time for each rung",
           .value_name = "FILE"},
          plot_path);
  if (!cli.parse(argc, argv)) return 0;
  const bool all = rung_text == "all";
  int rung = rungs - 1;
  if (!all && rung_text != "last") {
    const char* end = rung_text.data() + rung_text.size();
    const auto parsed = std::from_chars(rung_text.data(), end, rung);
    NABLA_CHECK(parsed.ec == std::errc() && parsed.ptr == end && rung >= 0 && rung < rungs,
                "--rung: 0 to {}, last or all (got '{}')", rungs - 1, rung_text);
  }
  NABLA_CHECK(plot_path.empty() || all, "--plot needs --rung all");
  NABLA_CHECK(!all || seeds == 1, "--seeds needs a single rung, not --rung all");
  train::apply_run_settings(options);
  const Device device = options.trainer.device;

  const auto [source, train_set, test_set] = data::load_mnist(options.data_dir, options.normalize);
  fmt::print("data: {}; {} threads on {}\n", source.describe(), get_num_threads(), device.str());
  const auto report = [&](int r, uint64_t s, const speedrun::Result& result) {
    fmt::print("rung {} seed {}: {:.2f}% after {:.2f} s ({:g} epochs, weights {:016x}){}\n", r, s,
               100 * result.accuracy(), result.seconds(), result.checks.back().epoch, result.digest,
               result.reached ? "" : " (target not reached)");
    std::fflush(stdout);
  };

  if (all) {
    std::vector<speedrun::Result> results;
    for (int r = 0; r < rungs; ++r) {
      results.push_back(speedrun::run(ladder[r], seed, target, train_set, test_set, device));
      report(r, seed, results.back());
    }
    fmt::print("\n{:>4} {:>9} {:>9} {:>7}  {}\n", "rung", "seconds", "accuracy", "epochs",
               "change");
    for (int r = 0; r < rungs; ++r) {
      const speedrun::Result& result = results[r];
      fmt::print("{:>4} {:>9.2f} {:>8.2f}% {:>7g}  {}{}\n", r, result.seconds(),
                 100 * result.accuracy(), result.checks.back().epoch, ladder[r].change,
                 result.reached ? "" : " (target not reached)");
    }
    if (!plot_path.empty()) draw(results, target, plot_path);
    return 0;
  }
  std::vector<double> times;
  int64_t reached = 0;
  for (int64_t i = 0; i < seeds; ++i) {
    const auto s = static_cast<uint64_t>(seed + i);
    const speedrun::Result result =
        speedrun::run(ladder[rung], s, target, train_set, test_set, device);
    report(rung, s, result);
    times.push_back(result.seconds());
    reached += result.reached;
  }
  if (seeds > 1)
    fmt::print("rung {} over {} seeds: median {:.2f} s; {} of {} reached {:g}%\n", rung, seeds,
               median(times), reached, seeds, 100 * target);
  return reached == seeds ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
