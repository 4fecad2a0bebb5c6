// Draws the lecture's learning-rate schedules: exponential decay, halving, inverse decay, the
// triangular cyclical policy and a LambdaLR. Each curve is what nabla's own scheduler sets on an
// optimizer, stepped once per epoch (per iteration for the cyclical one) as a training loop
// steps it, not a formula written here.
//
//   lr_schedules                        # 100 steps, writes schedules.svg
//   lr_schedules --out figures --steps 60
#include <fmt/format.h>

#include <nabla/nabla.h>
#include <nabla/plot/svg.h>

#include <algorithm>
#include <cmath>

using namespace nabla;

namespace {

constexpr double kLr0 = 0.1;  // the optimizer's learning rate, which the decays start from

struct Schedule {
  std::string name, formula;  // the legend's and the panel's text
  sched::SchedulerConfig config;
  std::string unit;  // what one step is
};

std::vector<Schedule> lecture_schedules() {
  return {
      {"exponential", "exponential decay: lr0 e^(-kt), k = 0.05",
       sched::ExponentialDecayConfig{.k = 0.05}, "epoch"},
      {"halving", "halving: StepLR, step_size 10, gamma 0.5",
       sched::StepLRConfig{.step_size = 10, .gamma = 0.5}, "epoch"},
      {"inverse", "inverse decay: lr0 / (1 + kt), k = 0.1", sched::InverseDecayConfig{.k = 0.1},
       "epoch"},
      {"triangular", "cyclical, triangular: stepsize 20",
       sched::CyclicLRConfig{.base_lr = 0.001,
                             .max_lr = 0.006,
                             .step_size_up = 20,
                             .cycle_momentum = false},  // plain SGD has no momentum to cycle
       "iteration"},
      {"lambda", "LambdaLR: lr0 * 0.95^epoch",
       sched::LambdaLRConfig{.lr_lambda = [](int64_t epoch) { return std::pow(0.95, epoch); }},
       "epoch"},
  };
}

// The learning rate the optimizer holds at steps 0..steps of the schedule.
plot::Series trace(const Schedule& schedule, int steps, size_t index) {
  Tensor w = Tensor::zeros({1});
  w.requires_grad(true);
  auto optimizer = optim::make_optimizer(nn::NamedTensors{{"w", w}}, optim::SGDConfig{.lr = kLr0});
  auto scheduler = sched::make_scheduler(*optimizer, schedule.config);
  plot::Series s{schedule.name, {0}, {optimizer->lr()}, plot::color(index)};
  for (int t = 1; t <= steps; ++t) {
    scheduler->step();
    s.x.push_back(t);
    s.y.push_back(optimizer->lr());
  }
  return s;
}

// A panel from 0 to a little above `top`, so that a rate at its maximum does not hide in the frame.
plot::LineChart panel(const std::string& title, const std::string& unit, int steps, double top) {
  return plot::LineChart{.title = title,
                         .x_label = unit,
                         .y_label = "learning rate",
                         .x_range = plot::Range{0, static_cast<double>(steps)},
                         .y_range = plot::Range{0, 1.06 * top},
                         .integer_x = true,
                         .legend = plot::LegendPlace::None,
                         .width = 380,
                         .height = 260};
}

int run(int argc, char** argv) {
  std::string out = ".";
  int64_t steps = 100;
  train::CommandLine cli(
      "lr_schedules",
      fmt::format("Steps each of the lecture's learning-rate schedules on an SGD optimizer with lr "
                  "{:g}, prints the\nrates every tenth of the steps and draws them into "
                  "DIR/schedules.svg.",
                  kLr0));
  cli.add({.name = "out", .help = "the folder to write schedules.svg into", .value_name = "DIR"},
          out);
  cli.add({.name = "steps", .help = "steps of each schedule", .bounds = closed(1, 1000000)}, steps);
  if (!cli.parse(argc, argv)) return 0;

  const std::vector<Schedule> schedules = lecture_schedules();
  plot::Grid grid{.title = fmt::format("Learning-rate schedules (SGD, lr0 = {:g})", kLr0),
                  .columns = 3};
  plot::LineChart decays =
      panel("the three decays compared", "epoch", static_cast<int>(steps), kLr0);
  decays.legend = plot::LegendPlace::Inside;  // the decays leave the top right corner empty
  const int64_t every = std::max<int64_t>(1, steps / 10);
  fmt::print("{:<12}", "step");
  for (int64_t t = 0; t <= steps; t += every) fmt::print(" {:>9}", t);
  fmt::print("\n");
  for (size_t i = 0; i < schedules.size(); ++i) {
    const Schedule& schedule = schedules[i];
    const plot::Series s = trace(schedule, static_cast<int>(steps), i);
    fmt::print("{:<12}", schedule.name);
    for (int64_t t = 0; t <= steps; t += every) fmt::print(" {:>9.5f}", s.y[t]);
    fmt::print("\n");
    plot::LineChart chart = panel(schedule.formula, schedule.unit, static_cast<int>(steps),
                                  *std::max_element(s.y.begin(), s.y.end()));
    chart.series.push_back(s);
    grid.panels.push_back(std::move(chart));
    if (i < 3) decays.series.push_back(s);
  }
  grid.panels.push_back(std::move(decays));
  const std::string file = out + "/schedules.svg";
  plot::write_file(file, plot::to_svg(grid));
  fmt::print("-> {}\n", file);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
