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
// Non-finite points break a line (a diverging run simply stops being drawn); lines are clipped
// to the plot area.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nabla::plot {

struct Series {
  std::string label;
  std::vector<double> x, y;  // same length
};

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
  int width = 760, height = 480;
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
  int width = 640, height = 560;
};

// About `target` round tick values (1, 2 or 5 times a power of ten) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

// The i-th colour of a palette of 12 distinct colours (wraps around).
const char* color(size_t i);

// Escapes &, <, >, " for text and attributes.
std::string escape_xml(const std::string& text);

std::string to_svg(const LineChart& chart);
std::string to_svg(const ContourPlot& plot);

// Writes `text` to `path`; throws nabla::Error when the file cannot be written.
void write_file(const std::string& path, const std::string& text);

}  // namespace nabla::plot
