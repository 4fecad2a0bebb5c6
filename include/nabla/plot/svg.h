// plot: small SVG pictures with no dependency, for training curves and optimizer paths. The
// output is a standalone SVG file that any browser opens.
//
//   plot::LineChart chart{.title = "training loss", .x_label = "epoch", .y_label = "loss"};
//   chart.series.push_back({"adam", {1, 2, 3}, {0.9, 0.5, 0.4}});
//   plot::write_file("loss.svg", plot::to_svg(chart));
//
//   plot::ContourPlot c{.title = "Rosenbrock", .x_range = {-2, 2}, .y_range = {-1, 3},
//                       .f = [](double x, double y) { return (1-x)*(1-x) + 100*(y-x*x)*(y-x*x); }};
//   c.paths.push_back({"sgd", xs, ys});   // drawn over the contour lines, one colour each
//
//   plot::Grid g{.title = "paths", .columns = 3};   // small multiples: one panel per optimizer
//   g.panels.push_back(c);
//   plot::write_file("paths.svg", plot::to_svg(g));
//
// Non-finite points break a line (a diverging run simply stops being drawn); lines are clipped
// to the plot area. Legends sit beside the plot area by default, so they never hide data.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nabla::plot {

struct Series {
  std::string label;
  std::vector<double> x, y;  // same length
  std::string color;         // empty: the palette colour of the series' position
  bool dashed = false;       // e.g. a test curve beside the solid training curve of one run
  bool markers = false;      // a dot on every point, for curves of a few points (one per epoch)
};

// Where the legend goes: beside the plot area (it never covers data), in its top-right corner,
// or nowhere (small multiples whose panel titles name the series).
enum class LegendPlace { Right, Inside, None };

struct Range {
  double lo = 0.0, hi = 1.0;
};

// A linear map from data coordinates [d0, d1] to pixel coordinates [p0, p1].
struct Scale {
  double d0, d1, p0, p1;
  double operator()(double v) const { return p0 + (v - d0) / (d1 - d0) * (p1 - p0); }
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  std::optional<Range> x_range, y_range;  // default: the data's extent
  bool log_y = false;                     // decades on the y axis; values <= 0 are dropped
  bool log_x = false;                     // decades on the x axis; values <= 0 are dropped
  bool integer_x = false;                 // x ticks only at whole numbers (epochs, steps)
  LegendPlace legend = LegendPlace::Right;
  int width = 760, height = 480;  // the whole picture, legend included
};

struct ContourPlot {
  std::string title;
  Range x_range, y_range;
  std::function<double(double, double)> f;
  int levels = 24;            // contour lines
  int grid = 160;             // samples per side
  bool log_levels = true;     // levels spaced evenly in log(f - min f), for valleys like Rosenbrock
  std::vector<Series> paths;  // trajectories, each starting with a marker
  std::vector<std::pair<double, double>> stars;  // points to mark (minima)
  LegendPlace legend = LegendPlace::Right;
  int width = 640, height = 560;
};

// Small multiples: panels laid out row by row, `columns` per row, each in a cell as large as the
// largest panel. With share_y, line charts without a y_range get the extent of all of them, so
// the panels compare at a glance.
struct Grid {
  std::string title;
  int columns = 3;
  std::vector<std::variant<LineChart, ContourPlot>> panels;
  bool share_y = false;
};

// About `target` round tick values (1, 2 or 5 times a power of ten) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
// The same at whole numbers only (a step of at least 1): epochs are never 1.5.
std::vector<double> integer_ticks(double lo, double hi, int target = 6);
// Ticks of a log axis over [lo, hi], 0 < lo < hi: powers of ten when that spans two decades or
// more, else 1, 2 and 5 times them, or every digit times them when that gives fewer than three.
std::vector<double> log_ticks(double lo, double hi);

// The i-th colour of a palette of 12 distinct colours (wraps around).
const char* color(size_t i);

// The fixed colour of one of the optimizer names the examples use ("sgd", "momentum" or
// "sgd+momentum", "nesterov", "adaptive-gain", "rmsprop", "adam", "adamw", "adagrad",
// "adadelta", "adamax", "nadam", "swats", "rprop"), so an optimizer looks the same in every figure;
// color(fallback) for any other name.
const char* color_for(std::string_view name, size_t fallback);

// Escapes &, <, >, " for text and attributes.
std::string escape_xml(const std::string& text);

std::string to_svg(const LineChart& chart);
std::string to_svg(const ContourPlot& plot);
std::string to_svg(const Grid& grid);

// Writes `text` to `path`; throws nabla::Error when the file cannot be written.
void write_file(const std::string& path, const std::string& text);

}  // namespace nabla::plot
