// SVG line charts and contour plots: axes with round ticks, a legend, polylines clipped to the
// plot area, and contour lines by marching squares.
#include "nabla/plot/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>

#include "nabla/error.h"

namespace nabla::plot {
namespace {

constexpr int kLeft = 72, kRight = 24, kTop = 40, kBottom = 56;  // margins around the plot area

// The plot area in pixels and the maps into it (y grows downwards in SVG).
struct Frame {
  Scale x, y;
  double left, right, top, bottom;
};

Frame make_frame(int width, int height, Range xr, Range yr) {
  const double left = kLeft, right = width - kRight, top = kTop, bottom = height - kBottom;
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

std::string open_svg(int width, int height, const std::string& title) {
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
      width, height);
  if (!title.empty())
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        width / 2.0, escape_xml(title));
  return s;
}

// Tick marks, labels and light grid lines; `ylabel_of` formats a y tick value.
std::string axes(const Frame& f, const std::vector<double>& xticks,
                 const std::vector<double>& yticks, const std::string& x_label,
                 const std::string& y_label, const std::function<std::string(double)>& ylabel_of) {
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
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{:g}</text>\n", f.x(t), f.bottom + 16, t);
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

// Polylines of the finite points, split where a point is not finite.
std::string polyline(const Frame& f, const std::vector<double>& x, const std::vector<double>& y,
                     const char* colour, double stroke_width) {
  std::string s, points;
  auto flush = [&] {
    if (!points.empty())
      s +=
          fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" points=\"{}\"/>\n",
                      colour, stroke_width, points);
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
  }
  flush();
  return s;
}

std::string clip(const Frame& f) {
  return fmt::format(
      "<clipPath id=\"area\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/>"
      "</clipPath>\n",
      f.left, f.top, f.right - f.left, f.bottom - f.top);
}

std::string legend(const Frame& f, const std::vector<Series>& series) {
  if (series.empty()) return "";
  size_t longest = 0;
  for (const Series& s : series) longest = std::max(longest, s.label.size());
  const double w = 40 + 7.5 * static_cast<double>(longest), h = 8 + 16.0 * series.size();
  const double x0 = f.right - w - 8, y0 = f.top + 8;
  std::string s = fmt::format(
      "<g><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"white\" "
      "fill-opacity=\"0.85\" stroke=\"#999\"/>\n",
      x0, y0, w, h);
  for (size_t i = 0; i < series.size(); ++i) {
    const double y = y0 + 14 + 16.0 * i;
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"2.5\"/><text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
        x0 + 6, y - 4, x0 + 26, y - 4, color(i), x0 + 30, y, escape_xml(series[i].label));
  }
  return s + "</g>\n";
}

Range extent(const std::vector<Series>& series, bool use_x) {
  Range r{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (const Series& s : series)
    for (double v : use_x ? s.x : s.y)
      if (std::isfinite(v)) r = {std::min(r.lo, v), std::max(r.hi, v)};
  if (!std::isfinite(r.lo)) r = {0, 1};
  return widen(r);
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

std::string close_svg(std::string s) {
  return s + "</svg>\n";
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
  // On a log axis everything below works with log10 of the values.
  std::vector<Series> series = chart.series;
  if (chart.log_y)
    for (Series& s : series)
      for (double& y : s.y) y = y > 0 ? std::log10(y) : std::numeric_limits<double>::quiet_NaN();
  const Range xr = chart.x_range ? widen(*chart.x_range) : extent(series, true);
  Range yr = extent(series, false);
  if (chart.y_range)
    yr = chart.log_y ? widen({std::log10(chart.y_range->lo), std::log10(chart.y_range->hi)})
                     : widen(*chart.y_range);
  const Frame f = make_frame(chart.width, chart.height, xr, yr);

  std::vector<double> yticks = nice_ticks(yr.lo, yr.hi);
  if (chart.log_y && yr.hi - yr.lo >= 2) {  // whole decades when there are enough
    yticks.clear();
    for (double t = std::ceil(yr.lo); t <= yr.hi; t += std::ceil((yr.hi - yr.lo) / 8))
      yticks.push_back(t);
  }
  auto ylabel_of = [&](double t) {
    return fmt::format("{:g}", chart.log_y ? std::pow(10.0, t) : t);
  };

  std::string s = open_svg(chart.width, chart.height, chart.title);
  s += clip(f);
  s += axes(f, nice_ticks(xr.lo, xr.hi), yticks, chart.x_label, chart.y_label, ylabel_of);
  s += "<g clip-path=\"url(#area)\">\n";
  for (size_t i = 0; i < series.size(); ++i)
    s += polyline(f, series[i].x, series[i].y, color(i), 1.8);
  s += "</g>\n";
  s += legend(f, series);
  return close_svg(std::move(s));
}

std::string to_svg(const ContourPlot& plot) {
  NABLA_CHECK(static_cast<bool>(plot.f), "plot::to_svg: the contour plot has no function");
  NABLA_CHECK(plot.grid >= 2 && plot.levels >= 1,
              "plot::to_svg: grid must be >= 2 and levels >= 1 (got {} and {})", plot.grid,
              plot.levels);
  const Range xr = widen(plot.x_range), yr = widen(plot.y_range);
  const Frame f = make_frame(plot.width, plot.height, xr, yr);

  // Sample f on the grid; v[j][i] at (x_i, y_j).
  const int n = plot.grid;
  std::vector<std::vector<double>> v(n + 1, std::vector<double>(n + 1));
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int j = 0; j <= n; ++j)
    for (int i = 0; i <= n; ++i) {
      v[j][i] = plot.f(xr.lo + (xr.hi - xr.lo) * i / n, yr.lo + (yr.hi - yr.lo) * j / n);
      if (std::isfinite(v[j][i])) lo = std::min(lo, v[j][i]), hi = std::max(hi, v[j][i]);
    }

  std::string s = open_svg(plot.width, plot.height, plot.title);
  s += clip(f);
  s += axes(f, nice_ticks(xr.lo, xr.hi), nice_ticks(yr.lo, yr.hi), "x", "y",
            [](double t) { return fmt::format("{:g}", t); });
  s += "<g clip-path=\"url(#area)\" fill=\"none\" stroke-width=\"0.8\">\n";
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
    s += polyline(f, p.x, p.y, color(i), 1.6);
    if (!p.x.empty() && std::isfinite(p.x[0]) && std::isfinite(p.y[0]))
      s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"/>\n", f.x(p.x[0]),
                       f.y(p.y[0]), color(i));
  }
  for (const auto& [x, y] : plot.stars)  // a ringed dot
    s += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"black\" stroke=\"white\" "
        "stroke-width=\"2\"/>\n",
        f.x(x), f.y(y));
  s += "</g>\n";
  s += legend(f, plot.paths);
  return close_svg(std::move(s));
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  NABLA_CHECK(out.good(), "plot: cannot write '{}'", path);
  out << text;
  out.close();
  NABLA_CHECK(out.good(), "plot: writing '{}' failed", path);
}

}  // namespace nabla::plot
