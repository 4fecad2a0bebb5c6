// MNIST to 99 % test accuracy as fast as the machine allows, and the ladder of changes that gets
// there from PyTorch's MNIST example (examples/mnist_speedrun.h; docs/speedrun.md has the table).
//
//   mnist_speedrun                   # the last rung, seed 0
//   mnist_speedrun --seeds 10        # the last rung over seeds 0..9: median time, seeds at 99 %
//   mnist_speedrun --rung all --plot speedrun.svg   # every rung, and accuracy against time
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <nabla/plot/svg.h>

#include "mnist_speedrun.h"

using namespace nabla;

namespace {

constexpr const char* kHelp = R"(usage: mnist_speedrun [flags]
Trains a small CNN on MNIST until its test accuracy first reaches the target, and prints the
seconds of training that took (steps and test checks; not the loading or the model's building).

  --rung N|last|all   which rung of the ladder to run (default last; all: each in turn)
  --seed S            the seed of the weights and the data order (default 0)
  --seeds K           run seeds S .. S+K-1 and print the median time and how many reached it
  --target A          the test accuracy to reach, as a fraction (default 0.99)
  --plot FILE         with --rung all: an SVG of test accuracy against time for each rung
  --data DIR          the MNIST folder (default: the fetched real MNIST)
  --threads N         CPU threads (default: all cores)
  --device D          cpu, cuda, cuda:N or auto (default auto)
  -h, --help          this text

It exits 1 when a run ends without reaching the target.

The ladder:
)";

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
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
      fmt::print("{}", kHelp);
      for (int r = 0; r < rungs; ++r) fmt::print("  {}  {}\n", r, ladder[r].change);
      return 0;
    }
  const std::string rung_text = train::take_flag(argc, argv, "rung").value_or("last");
  const auto seed = train::take_integer_flag(argc, argv, "seed").value_or(0);
  const int64_t seeds = train::take_integer_flag(argc, argv, "seeds").value_or(1);
  const double target = train::take_number_flag(argc, argv, "target").value_or(0.99);
  const std::string plot_path = train::take_flag(argc, argv, "plot").value_or("");
  train::RunOptions options;
  options.data_dir = train::take_flag(argc, argv, "data").value_or("");
  options.threads = static_cast<int>(train::take_integer_flag(argc, argv, "threads").value_or(0));
  options.device = train::take_flag(argc, argv, "device").value_or("auto");
  NABLA_CHECK(argc == 1, "mnist_speedrun: unknown argument '{}' (see --help)", argv[1]);
  NABLA_CHECK(seed >= 0 && seeds >= 1, "--seed must be >= 0 and --seeds >= 1 (got {} and {})", seed,
              seeds);
  NABLA_CHECK(target > 0 && target <= 1, "--target: a fraction in (0, 1] (got {})", target);
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

  const auto [source, train_set, test_set] = data::load_mnist(options.data_dir);
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
