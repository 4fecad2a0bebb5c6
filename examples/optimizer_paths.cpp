// Runs every optimizer on 2-D test functions and draws their paths over the contour lines, as
// the lecture's momentum figures: the parameters are one tensor (x, y) with requires_grad, the
// function is built from tensor ops, and the optimizers are the same ones that train networks.
//
//   optimizer_paths                    # writes paths-rosenbrock.svg, ... in the current folder
//   optimizer_paths --out runs --steps 1000 --only sgd,momentum,nesterov --layout overlay
//   optimizer_paths --functions ravine --only momentum,nesterov --loss on  # + loss-ravine.svg
#include <fmt/format.h>

#include <nabla/nabla.h>
#include <nabla/plot/svg.h>

#include <algorithm>
#include <cmath>
#include <sstream>

using namespace nabla;

namespace {

// Each function is written once, for doubles (the contour lines) and tensors (autograd).
template <typename T>
T sq(const T& a) {
  return a * a;
}
template <typename T>
T rosenbrock(const T& x, const T& y) {  // a curved valley, minimum at (1, 1)
  return sq(1.0f - x) + 100.0f * sq(y - x * x);
}
template <typename T>
T beale(const T& x, const T& y) {  // flat plateaus and steep walls, minimum at (3, 0.5)
  return sq(1.5f - x + x * y) + sq(2.25f - x + x * y * y) + sq(2.625f - x + x * y * y * y);
}
template <typename T>
T ravine(const T& x, const T& y) {  // an ill-conditioned quadratic (condition number 20)
  return 0.5f * x * x + 10.0f * y * y;
}
template <typename T>
T saddle(const T& x, const T& y) {  // a saddle at (0, 0) between minima at (0, +-1)
  return x * x + 0.25f * sq(y * y) - 0.5f * y * y;
}

struct Problem {
  std::string name;
  double (*f)(const double&, const double&);
  Tensor (*f_tensor)(const Tensor&, const Tensor&);
  plot::Range x_range, y_range;
  float x0, y0;                // the start
  double lr_sgd, lr_adaptive;  // for plain gradient steps, and for per-weight step sizes
  std::vector<std::pair<double, double>> minima;
};

// clang-format off
const std::vector<Problem> kProblems = {
  // name, f, f on tensors, x range, y range, start, lr sgd, lr adaptive, minima
  {"rosenbrock", rosenbrock<double>, rosenbrock<Tensor>, {-2, 2}, {-1, 3}, -1.5f, 2.5f, 1e-3, 0.02, {{1, 1}}},
  {"beale", beale<double>, beale<Tensor>, {-1, 4.5}, {-2, 3}, 1.0f, 1.5f, 1e-3, 0.05, {{3, 0.5}}},
  {"ravine", ravine<double>, ravine<Tensor>, {-5, 5}, {-3, 3}, -4.5f, 2.0f, 0.065, 0.2, {{0, 0}}},
  {"saddle", saddle<double>, saddle<Tensor>, {-2, 2}, {-2, 2}, -1.8f, 1e-3f, 0.05, 0.05, {{0, 1}, {0, -1}}},
};
// clang-format on

// The optimizers, with the problem's step size.
std::vector<std::pair<std::string, optim::OptimizerConfig>> optimizers(const Problem& p) {
  const double s = p.lr_sgd, a = p.lr_adaptive;
  return {
      {"sgd", optim::SGDConfig{.lr = s}},
      {"momentum", optim::SGDConfig{.lr = s, .momentum = 0.9}},
      {"nesterov", optim::SGDConfig{.lr = s, .momentum = 0.9, .nesterov = true}},
      {"adaptive-gain", optim::AdaptiveGainConfig{.lr = s, .max_gain = 10}},
      {"rmsprop", optim::RMSpropConfig{.lr = a}},
      {"adam", optim::AdamConfig{.lr = a}},
      {"adamw", optim::AdamWConfig{.lr = a}},
      {"adagrad", optim::AdagradConfig{.lr = a}},
      {"adadelta", optim::AdadeltaConfig{.lr = 1.0}},
      {"adamax", optim::AdamaxConfig{.lr = a}},
      {"nadam", optim::NAdamConfig{.lr = a}},
      {"swats", optim::SWATSConfig{.lr = a}},
      {"rprop", optim::RpropConfig{.lr = a}},
  };
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) items.push_back(item);
  return items;
}
bool listed(const std::string& list, const std::string& name) {
  const std::vector<std::string> items = split(list);
  return std::find(items.begin(), items.end(), name) != items.end();
}

// One panel per optimizer: a dozen paths over one contour plot hide each other.
plot::Grid path_panels(const Problem& p, const std::string& title,
                       const std::vector<plot::Series>& paths) {
  plot::Grid grid{.title = title, .columns = 4};
  for (const plot::Series& path : paths)
    grid.panels.push_back(plot::ContourPlot{.title = path.label,
                                            .x_range = p.x_range,
                                            .y_range = p.y_range,
                                            .f = p.f,
                                            .levels = 16,
                                            .grid = 100,
                                            .paths = {path},
                                            .stars = p.minima,
                                            .legend = plot::LegendPlace::None,
                                            .width = 300,
                                            .height = 270});
  return grid;
}

// The distance to the minimum value, f(x_t, y_t) - f*, against the step, on a log axis.
plot::LineChart loss_chart(const Problem& p, const std::string& title,
                           const std::vector<plot::Series>& paths) {
  const double best = p.f(p.minima[0].first, p.minima[0].second);
  plot::LineChart chart{.title = title,
                        .x_label = "step",
                        .y_label = "f(x, y) - f*",
                        .log_y = true,
                        .integer_x = true,
                        .width = 640,
                        .height = 420};
  for (const plot::Series& path : paths) {
    plot::Series s{path.label, {}, {}, path.color};
    for (size_t i = 0; i < path.x.size(); ++i) {
      s.x.push_back(static_cast<double>(i));
      s.y.push_back(p.f(path.x[i], path.y[i]) - best);
    }
    chart.series.push_back(std::move(s));
  }
  return chart;
}

// Gradient steps from the problem's start; returns the visited points.
plot::Series descend(const Problem& p, const std::string& name,
                     const optim::OptimizerConfig& config, int steps) {
  Tensor xy = Tensor::from_vector({p.x0, p.y0}, {2});
  xy.requires_grad(true);
  auto optimizer = optim::make_optimizer(nn::NamedTensors{{"xy", xy}}, config);
  plot::Series path{name, {p.x0}, {p.y0}};
  for (int i = 0; i < steps; ++i) {
    optimizer->zero_grad();
    Tensor loss = p.f_tensor(xy.select(0, 0), xy.select(0, 1));
    loss.backward();
    optimizer->step();
    const std::vector<float> v = xy.to_vector<float>();
    path.x.push_back(v[0]);
    path.y.push_back(v[1]);
  }
  return path;
}

int run(int argc, char** argv) {
  std::string out = ".", layout = "grid";
  int64_t steps = 500;
  std::optional<std::string> only, functions;
  bool loss = false;
  double lr = 0;
  train::CommandLine cli("optimizer_paths",
                         "Runs every optimizer on the Rosenbrock, Beale, ravine (ill-conditioned "
                         "quadratic) and saddle\nfunctions and writes DIR/paths-<function>.svg.");
  cli.add({.name = "out", .help = "the folder to write the pictures into", .value_name = "DIR"},
          out);
  cli.add({.name = "steps", .help = "steps of each optimizer", .bounds = closed(1, 1000000)},
          steps);
  cli.add({.name = "only", .help = "draw just these optimizers", .value_name = "NAME,NAME..."},
          only);
  cli.add({.name = "functions", .help = "just these functions", .value_name = "NAME,NAME..."},
          functions);
  cli.add({.name = "layout",
           .help = "grid: one panel per optimizer; overlay: every path in one picture",
           .value_name = "grid|overlay"},
          layout);
  cli.add({.name = "loss", .help = "also write DIR/loss-<function>.svg: f - f* against the step"},
          loss);
  cli.add({.name = "lr",
           .help = "the step size of sgd, momentum, nesterov and adaptive-gain (0: one chosen "
                   "for each function)",
           .bounds = at_least(0)},
          lr);
  if (!cli.parse(argc, argv)) return 0;
  NABLA_CHECK(layout == "grid" || layout == "overlay",
              "--layout: expected grid or overlay, got '{}'", layout);
  auto check_names = [](const std::string& flag, const std::string& list,
                        const std::vector<std::string>& known) {
    for (const std::string& name : split(list))
      NABLA_CHECK(std::find(known.begin(), known.end(), name) != known.end(),
                  "--{}: unknown name '{}' (known: {})", flag, name, fmt::join(known, ", "));
  };
  if (only) {
    std::vector<std::string> known;
    for (const auto& [name, config] : optimizers(kProblems[0])) known.push_back(name);
    check_names("only", *only, known);
  }
  if (functions) {
    std::vector<std::string> known;
    for (const Problem& p : kProblems) known.push_back(p.name);
    check_names("functions", *functions, known);
  }

  for (Problem p : kProblems) {
    if (functions && !listed(*functions, p.name)) continue;
    if (lr > 0) p.lr_sgd = lr;
    fmt::print("{} (sgd-like lr {:g}, adaptive lr {:g})\n", p.name, p.lr_sgd, p.lr_adaptive);
    std::vector<plot::Series> paths;
    for (const auto& [name, config] : optimizers(p)) {
      if (only && !listed(*only, name)) continue;
      paths.push_back(descend(p, name, config, static_cast<int>(steps)));
      paths.back().color = plot::color_for(name, paths.size() - 1);
      const double x = paths.back().x.back(), y = paths.back().y.back();
      fmt::print("  {:<14} ends at ({:>9.4f}, {:>9.4f})  f = {:.3g}\n", name, x, y, p.f(x, y));
    }
    const std::string title =
        fmt::format("{}: {} steps from ({:g}, {:g})", p.name, steps, p.x0, p.y0);
    const std::string file = fmt::format("{}/paths-{}.svg", out, p.name);
    if (layout == "grid") {
      plot::write_file(file, plot::to_svg(path_panels(p, title, paths)));
    } else {
      plot::write_file(file, plot::to_svg(plot::ContourPlot{.title = title,
                                                            .x_range = p.x_range,
                                                            .y_range = p.y_range,
                                                            .f = p.f,
                                                            .paths = paths,
                                                            .stars = p.minima,
                                                            .width = 760}));
    }
    fmt::print("  -> {}\n", file);
    if (loss) {
      const std::string loss_file = fmt::format("{}/loss-{}.svg", out, p.name);
      plot::write_file(loss_file, plot::to_svg(loss_chart(p, title, paths)));
      fmt::print("  -> {}\n", loss_file);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
