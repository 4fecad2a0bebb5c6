// SVG line charts, contour plots and grids of them: axes with round ticks, a legend beside the
// plot area, polylines clipped to it, and contour lines by marching squares.
#include "nabla/plot/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <type_traits>
#include <utility>

#include "nabla/error.h"

namespace nabla::plot {
namespace {

constexpr int kLeft = 72, kRight = 24, kTop = 40, kBottom = 56;  // margins around the plot area
constexpr double kCharWidth = 7.0;  // about the width of a 12px sans-serif character
constexpr double kLegendRow = 16.0;

// The plot area in pixels and the maps into it (y grows downwards in SVG).
struct Frame {
  Scale x, y;
  double left, right, top, bottom;
};

// `reserve`: pixels kept free right of the plot area (for the legend).
Frame make_frame(int width, int height, Range xr, Range yr, double reserve) {
  const double left = kLeft, right = width - kRight - reserve, top = kTop,
               bottom = height - kBottom;
  return {
      Scale{xr.lo, xr.hi, left, right}, Scale{yr.lo, yr.hi, bottom, top}, left, right, top, bottom};
}

// A range that is never empty, so the scales never divide by zero.
Range widen(Range r) {
  if (!(r.hi > r.lo)) {
    const double pad = r.lo == 0 ? 1.0 : std::abs(r.lo) * 0.1;
    r = {r.lo - pad, r.hi + pad};
  }
  return r;
}

// A y range from the data, a little wider than the data (linearly, or in decades for a log
// axis), so that the highest and lowest points do not vanish into the frame.
Range padded(Range r, bool log) {
  constexpr double kPad = 0.04;
  if (log) {
    const double f = std::pow(r.hi / r.lo, kPad);
    return {r.lo / f, r.hi * f};
  }
  const double d = (r.hi - r.lo) * kPad;
  return {r.lo - d, r.hi + d};
}

std::string open_svg(int width, int height) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n",
      width, height);
}

// The white background and the title of a picture (or of one panel of a grid).
std::string background(int width, int height, const std::string& title) {
  std::string s = fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"white\"/>\n", width, height);
  if (!title.empty())
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        width / 2.0, escape_xml(title));
  return s;
}

// Tick marks, labels and light grid lines; `ylabel_of` formats a y tick value.
std::string axes(const Frame& f, const std::vector<double>& xticks,
                 const std::vector<double>& yticks, const std::string& x_label,
                 const std::string& y_label, const std::function<std::string(double)>& xlabel_of,
                 const std::function<std::string(double)>& ylabel_of) {
  std::string s = "<g stroke=\"#e5e5e5\">\n";
  for (double t : xticks)
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>\n",
                     f.x(t), f.top, f.bottom);
  for (double t : yticks)
    s += fmt::format("<line x1=\"{1:.1f}\" y1=\"{0:.1f}\" x2=\"{2:.1f}\" y2=\"{0:.1f}\"/>\n",
                     f.y(t), f.left, f.right);
  s += "</g>\n";
  s += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
      "stroke=\"black\"/>\n",
      f.left, f.top, f.right - f.left, f.bottom - f.top);
  s += "<g text-anchor=\"middle\">\n";
  for (double t : xticks)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", f.x(t), f.bottom + 16,
                     escape_xml(xlabel_of(t)));
  s += "</g>\n<g text-anchor=\"end\">\n";
  for (double t : yticks)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", f.left - 6, f.y(t) + 4,
                     escape_xml(ylabel_of(t)));
  s += "</g>\n";
  if (!x_label.empty())
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                     (f.left + f.right) / 2, f.bottom + 38, escape_xml(x_label));
  if (!y_label.empty())
    s += fmt::format(
        "<text transform=\"translate(16 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
        (f.top + f.bottom) / 2, escape_xml(y_label));
  return s;
}

const char* colour_of(const Series& s, size_t i) {
  return s.color.empty() ? color(i) : s.color.c_str();
}

// The stroke attributes of a series: its colour, width and dash pattern.
std::string stroke(const Series& s, const char* colour, double width) {
  return fmt::format("stroke=\"{}\" stroke-width=\"{}\"{}", colour, width,
                     s.dashed ? " stroke-dasharray=\"7 4\"" : "");
}

// Polylines of the finite points, split where a point is not finite; dots on them for markers.
std::string polyline(const Frame& f, const Series& series, const char* colour,
                     double stroke_width) {
  const std::vector<double>&x = series.x, &y = series.y;
  std::string s, points, dots;
  auto flush = [&] {
    if (!points.empty())
      s += fmt::format("<polyline fill=\"none\" {} points=\"{}\"/>\n",
                       stroke(series, colour, stroke_width), points);
    points.clear();
  };
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      flush();
      continue;
    }
    // Far outside the frame a point is pinned, so that huge values stay valid numbers.
    const double px = std::clamp(f.x(x[i]), -1e5, 1e5), py = std::clamp(f.y(y[i]), -1e5, 1e5);
    points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", px, py);
    if (series.markers)
      dots += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", px, py,
                          colour);
  }
  flush();
  return s + dots;
}

std::string clip(const Frame& f, const std::string& id) {
  return fmt::format(
      "<clipPath id=\"{}\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/>"
      "</clipPath>\n",
      id, f.left, f.top, f.right - f.left, f.bottom - f.top);
}

// The width a legend of these series takes, or would take inside the plot area.
double legend_width(const std::vector<Series>& series) {
  size_t longest = 0;
  for (const Series& s : series) longest = std::max(longest, s.label.size());
  return 40 + kCharWidth * static_cast<double>(longest);
}

// Pixels a legend beside the plot area keeps free on its right.
double legend_reserve(const std::vector<Series>& series, LegendPlace place) {
  return place == LegendPlace::Right && !series.empty() ? legend_width(series) : 0.0;
}

std::string legend(const Frame& f, const std::vector<Series>& series, LegendPlace place) {
  if (series.empty() || place == LegendPlace::None) return "";
  const double w = legend_width(series), h = 8 + kLegendRow * series.size();
  std::string s = "<g>\n";
  double x0 = f.right + 8, y0 = f.top;
  if (place == LegendPlace::Inside) {
    x0 = f.right - w - 8, y0 = f.top + 8;
    s += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"white\" "
        "fill-opacity=\"0.85\" stroke=\"#999\"/>\n",
        x0, y0, w, h);
  }
  for (size_t i = 0; i < series.size(); ++i) {
    const double y = y0 + 14 + kLegendRow * i;
    const char* colour = colour_of(series[i], i);
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" {}/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
        x0 + 6, y - 4, x0 + 28, y - 4, stroke(series[i], colour, 2.5), x0 + 32, y,
        escape_xml(series[i].label));
  }
  return s + "</g>\n";
}

// The finite values' extent (only the positive ones for a log axis); {0, 1} when there are none.
Range extent(const std::vector<Series>& series, bool use_x, bool positive = false) {
  Range r{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (const Series& s : series)
    for (double v : use_x ? s.x : s.y)
      if (std::isfinite(v) && (!positive || v > 0)) r = {std::min(r.lo, v), std::max(r.hi, v)};
  if (!std::isfinite(r.lo)) r = positive ? Range{1, 10} : Range{0, 1};
  return r;
}

// Contour segments of the sampled grid v (n+1 x n+1, v[j][i] at x_i, y_j) at `level`, as an SVG
// path. Marching squares: each cell's edges that the level crosses, joined in pairs.
std::string contour_path(const std::vector<std::vector<double>>& v, double level, const Frame& f,
                         Range xr, Range yr) {
  const size_t n = v.size() - 1;
  auto gx = [&](double i) { return f.x(xr.lo + (xr.hi - xr.lo) * i / n); };
  auto gy = [&](double j) { return f.y(yr.lo + (yr.hi - yr.lo) * j / n); };
  std::string d;
  for (size_t j = 0; j < n; ++j) {
    for (size_t i = 0; i < n; ++i) {
      // Corners counter-clockwise from the bottom left, as (i, j, value).
      const std::array<std::array<double, 3>, 4> c{{{double(i), double(j), v[j][i]},
                                                    {double(i + 1), double(j), v[j][i + 1]},
                                                    {double(i + 1), double(j + 1), v[j + 1][i + 1]},
                                                    {double(i), double(j + 1), v[j + 1][i]}}};
      std::array<std::pair<double, double>, 4> hits;
      int count = 0;
      for (int e = 0; e < 4; ++e) {
        const auto& a = c[e];
        const auto& b = c[(e + 1) % 4];
        if ((a[2] < level) == (b[2] < level) || !std::isfinite(a[2]) || !std::isfinite(b[2]))
          continue;
        const double t = (level - a[2]) / (b[2] - a[2]);
        hits[count++] = {a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])};
      }
      for (int k = 0; k + 1 < count; k += 2)
        d += fmt::format("M{:.1f} {:.1f}L{:.1f} {:.1f}", gx(hits[k].first), gy(hits[k].second),
                         gx(hits[k + 1].first), gy(hits[k + 1].second));
    }
  }
  return d;
}

// Everything inside the <svg> element of a chart; `id` names its clip path, unique in a grid.
std::string chart_body(const LineChart& chart, const std::string& id) {
  // On a log axis everything below works with log10 of the values.
  std::vector<Series> series = chart.series;
  const auto to_log = [](std::vector<double>& values) {
    for (double& v : values) v = v > 0 ? std::log10(v) : std::numeric_limits<double>::quiet_NaN();
  };
  for (Series& s : series) {
    if (chart.log_x) to_log(s.x);
    if (chart.log_y) to_log(s.y);
  }
  const auto range_of = [](const std::optional<Range>& given, bool log) {
    return log ? widen({std::log10(given->lo), std::log10(given->hi)}) : widen(*given);
  };
  const Range xr =
      chart.x_range ? range_of(chart.x_range, chart.log_x) : widen(extent(series, true));
  Range yr = padded(widen(extent(series, false)), false);  // already log10 on a log axis
  if (chart.y_range) yr = range_of(chart.y_range, chart.log_y);
  const Frame f =
      make_frame(chart.width, chart.height, xr, yr, legend_reserve(chart.series, chart.legend));

  // Decades on a log axis (placed at their log10), else round numbers.
  const auto ticks = [](Range r, bool log, bool integer) {
    if (!log) return integer ? integer_ticks(r.lo, r.hi) : nice_ticks(r.lo, r.hi);
    std::vector<double> t = log_ticks(std::pow(10.0, r.lo), std::pow(10.0, r.hi));
    for (double& v : t) v = std::log10(v);
    return t;
  };
  const std::vector<double> xticks = ticks(xr, chart.log_x, chart.integer_x);
  const std::vector<double> yticks = ticks(yr, chart.log_y, false);
  const auto label_of = [](bool log) {
    return [log](double t) { return fmt::format("{:g}", log ? std::pow(10.0, t) : t); };
  };

  std::string s = background(chart.width, chart.height, chart.title);
  s += clip(f, id);
  s += axes(f, xticks, yticks, chart.x_label, chart.y_label, label_of(chart.log_x),
            label_of(chart.log_y));
  s += fmt::format("<g clip-path=\"url(#{})\">\n", id);
  for (size_t i = 0; i < series.size(); ++i)
    s += polyline(f, series[i], colour_of(series[i], i), 1.8);
  s += "</g>\n";
  return s + legend(f, series, chart.legend);
}

std::string contour_body(const ContourPlot& plot, const std::string& id) {
  NABLA_CHECK(static_cast<bool>(plot.f), "plot::to_svg: the contour plot has no function");
  NABLA_CHECK(plot.grid >= 2 && plot.levels >= 1,
              "plot::to_svg: grid must be >= 2 and levels >= 1 (got {} and {})", plot.grid,
              plot.levels);
  const Range xr = widen(plot.x_range), yr = widen(plot.y_range);
  const Frame f =
      make_frame(plot.width, plot.height, xr, yr, legend_reserve(plot.paths, plot.legend));

  // Sample f on the grid; v[j][i] at (x_i, y_j).
  const int n = plot.grid;
  std::vector<std::vector<double>> v(n + 1, std::vector<double>(n + 1));
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int j = 0; j <= n; ++j)
    for (int i = 0; i <= n; ++i) {
      v[j][i] = plot.f(xr.lo + (xr.hi - xr.lo) * i / n, yr.lo + (yr.hi - yr.lo) * j / n);
      if (std::isfinite(v[j][i])) lo = std::min(lo, v[j][i]), hi = std::max(hi, v[j][i]);
    }

  std::string s = background(plot.width, plot.height, plot.title);
  s += clip(f, id);
  const auto plain = [](double t) { return fmt::format("{:g}", t); };
  s += axes(f, nice_ticks(xr.lo, xr.hi), nice_ticks(yr.lo, yr.hi), "x", "y", plain, plain);
  s += fmt::format("<g clip-path=\"url(#{})\" fill=\"none\" stroke-width=\"0.8\">\n", id);
  for (int k = 0; k < plot.levels && hi > lo; ++k) {
    const double t = (k + 1.0) / (plot.levels + 1.0);  // in (0, 1)
    // Log spacing puts most lines near the minimum, where the paths end.
    const double level = plot.log_levels
                             ? lo + std::exp(std::log((hi - lo) * 1e-5) + t * std::log(1e5))
                             : lo + t * (hi - lo);
    const std::string d = contour_path(v, level, f, xr, yr);
    // Darker lines for lower levels.
    if (!d.empty())
      s += fmt::format("<path stroke=\"hsl(210,40%,{:.0f}%)\" d=\"{}\"/>\n", 35 + 45 * t, d);
  }
  for (size_t i = 0; i < plot.paths.size(); ++i) {
    const Series& p = plot.paths[i];
    const char* colour = colour_of(p, i);
    s += polyline(f, p, colour, 1.6);
    // A filled dot at the start, a ring at the end (a run that diverged has no end to mark).
    if (!p.x.empty() && std::isfinite(p.x[0]) && std::isfinite(p.y[0]))
      s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"/>\n", f.x(p.x[0]),
                       f.y(p.y[0]), colour);
    if (p.x.size() > 1 && std::isfinite(p.x.back()) && std::isfinite(p.y.back()))
      s += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"white\" stroke=\"{}\" "
          "stroke-width=\"1.5\"/>\n",
          f.x(p.x.back()), f.y(p.y.back()), colour);
  }
  for (const auto& [x, y] : plot.stars)  // a ringed dot
    s += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"black\" stroke=\"white\" "
        "stroke-width=\"2\"/>\n",
        f.x(x), f.y(y));
  s += "</g>\n";
  return s + legend(f, plot.paths, plot.legend);
}

int width_of(const std::variant<LineChart, ContourPlot>& panel) {
  return std::visit([](const auto& p) { return p.width; }, panel);
}
int height_of(const std::variant<LineChart, ContourPlot>& panel) {
  return std::visit([](const auto& p) { return p.height; }, panel);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  const Range r = widen({lo, hi});
  const double raw = (r.hi - r.lo) / std::max(1, target);
  // step = m * 10^e; ticks k * m / 10^-e (or k * m * 10^e), so that integers divided by an exact
  // power of ten give the same doubles as the decimal literals (0.6, not 0.6000000000000001).
  const int e = static_cast<int>(std::floor(std::log10(raw)));
  double m = 10.0;
  for (double candidate : {1.0, 2.0, 5.0})
    if (candidate * std::pow(10.0, e) >= raw) {
      m = candidate;
      break;
    }
  const double scale = std::pow(10.0, std::abs(e));
  auto tick = [&](double k) { return e < 0 ? k * m / scale : k * m * scale; };
  std::vector<double> ticks;
  for (double k = std::ceil(r.lo / tick(1) - 1e-9); tick(k) <= r.hi + tick(1) * 1e-9; k += 1)
    ticks.push_back(tick(k) + 0.0);  // + 0.0: no "-0" label
  return ticks;
}

std::vector<double> integer_ticks(double lo, double hi, int target) {
  std::vector<double> ticks = nice_ticks(lo, hi, target);
  if (ticks.size() >= 2 && ticks[1] - ticks[0] >= 1) return ticks;
  ticks.clear();
  for (double t = std::ceil(lo); t <= hi; t += 1) ticks.push_back(t + 0.0);
  return ticks;
}

std::vector<double> log_ticks(double lo, double hi) {
  NABLA_CHECK(lo > 0 && hi > lo, "plot::log_ticks: need 0 < lo < hi (got {} and {})", lo, hi);
  const double a = std::log10(lo), b = std::log10(hi);
  auto multiples = [&](std::initializer_list<double> digits) {
    std::vector<double> ticks;
    for (int e = static_cast<int>(std::floor(a)); e <= static_cast<int>(std::ceil(b)); ++e)
      for (double d : digits) {
        // d / 10^-e for negative e, so that the doubles equal the decimal literals (0.02).
        const double t = e < 0 ? d / std::pow(10.0, -e) : d * std::pow(10.0, e);
        if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push_back(t);
      }
    return ticks;
  };
  if (b - a >= 2) {  // whole decades, at most about eight of them
    std::vector<double> ticks;
    const double step = std::ceil((b - a) / 8);
    for (double e = std::ceil(a - 1e-9); e <= b + 1e-9; e += step)
      ticks.push_back(e < 0 ? 1 / std::pow(10.0, -e) : std::pow(10.0, e));
    return ticks;
  }
  std::vector<double> ticks = multiples({1, 2, 5});
  if (ticks.size() < 3) ticks = multiples({1, 2, 3, 4, 5, 6, 7, 8, 9});
  if (ticks.size() < 2) ticks = nice_ticks(lo, hi, 4);  // a range within one digit
  return ticks;
}

const char* color_for(std::string_view name, size_t fallback) {
  // Related optimizers in related hues where that stays distinguishable: momentum blue beside
  // Nesterov orange (the pair the lecture compares), the Adam family in reds and pinks.
  static constexpr std::array<std::pair<std::string_view, const char*>, 14> kByName = {{
      {"sgd", "#7f7f7f"},
      {"momentum", "#1f77b4"},
      {"sgd+momentum", "#1f77b4"},
      {"nesterov", "#ff7f0e"},
      {"adaptive-gain", "#8c564b"},
      {"rmsprop", "#2ca02c"},
      {"adam", "#d62728"},
      {"adamw", "#e377c2"},
      {"adagrad", "#bcbd22"},
      {"adadelta", "#17becf"},
      {"adamax", "#9467bd"},
      {"nadam", "#000000"},
      {"swats", "#b8860b"},
      {"rprop", "#006400"},
  }};
  for (const auto& [known, colour] : kByName)
    if (known == name) return colour;
  return color(fallback);
}

const char* color(size_t i) {
  static constexpr std::array<const char*, 12> kPalette = {
      "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
      "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#b8860b"};
  return kPalette[i % kPalette.size()];
}

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string to_svg(const LineChart& chart) {
  return open_svg(chart.width, chart.height) + chart_body(chart, "area") + "</svg>\n";
}

std::string to_svg(const ContourPlot& plot) {
  return open_svg(plot.width, plot.height) + contour_body(plot, "area") + "</svg>\n";
}

std::string to_svg(const Grid& grid) {
  NABLA_CHECK(grid.columns >= 1, "plot::to_svg: a grid needs columns >= 1 (got {})", grid.columns);
  std::vector<std::variant<LineChart, ContourPlot>> panels = grid.panels;
  if (grid.share_y) {
    std::vector<Series> all;
    bool log_y = false;
    for (const auto& panel : panels)
      if (const auto* chart = std::get_if<LineChart>(&panel); chart && !chart->y_range) {
        all.insert(all.end(), chart->series.begin(), chart->series.end());
        log_y = log_y || chart->log_y;
      }
    const Range shared = padded(extent(all, false, log_y), log_y);
    for (auto& panel : panels)
      if (auto* chart = std::get_if<LineChart>(&panel); chart && !chart->y_range)
        chart->y_range = shared;
  }
  int cell_w = 1, cell_h = 1;
  for (const auto& panel : panels)
    cell_w = std::max(cell_w, width_of(panel)), cell_h = std::max(cell_h, height_of(panel));
  const int title_h = grid.title.empty() ? 0 : 36;
  const int columns = std::min<int>(grid.columns, std::max<size_t>(1, panels.size()));
  const int rows = static_cast<int>((panels.size() + columns - 1) / columns);
  const int width = columns * cell_w, height = title_h + std::max(1, rows) * cell_h;

  std::string s = open_svg(width, height) + background(width, height, "");
  if (!grid.title.empty())
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"25\" text-anchor=\"middle\" font-size=\"17\" "
        "font-weight=\"bold\">{}</text>\n",
        width / 2.0, escape_xml(grid.title));
  for (size_t k = 0; k < panels.size(); ++k) {
    const auto& panel = panels[k];
    s += fmt::format("<svg x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\">\n",
                     static_cast<int>(k % columns) * cell_w,
                     title_h + static_cast<int>(k / columns) * cell_h, width_of(panel),
                     height_of(panel));
    const std::string id = fmt::format("area{}", k);
    s += std::visit(
        [&](const auto& p) {
          if constexpr (std::is_same_v<std::decay_t<decltype(p)>, LineChart>)
            return chart_body(p, id);
          else
            return contour_body(p, id);
        },
        panel);
    s += "</svg>\n";
  }
  return s + "</svg>\n";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  NABLA_CHECK(out.good(), "plot: cannot write '{}'", path);
  out << text;
  out.close();
  NABLA_CHECK(out.good(), "plot: writing '{}' failed", path);
}

}  // namespace nabla::plot
