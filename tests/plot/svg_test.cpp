// The SVG writer: round ticks (linear, whole-number and log), the data-to-pixel map, escaping,
// colours by name, legend places, dashes and markers, grids of panels, and well-formed output
// (every element closed, coordinates inside the picture, one line per series and per path).
#include "nabla/plot/svg.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <sstream>

#include "support/gradcheck.h"
#include "support/idx_writer.h"

namespace nabla::plot {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Every opened element is closed, in order: a small stack check over the tags.
void expect_well_formed(const std::string& svg) {
  ASSERT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  ASSERT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  std::vector<std::string> open;
  const std::regex tag(R"(<(/?)([a-zA-Z]+)[^>]*?(/?)>)");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tag); it != std::sregex_iterator();
       ++it) {
    const std::string name = (*it)[2];
    if ((*it)[3] == "/") continue;  // <x .../>
    if ((*it)[1] == "/") {
      ASSERT_FALSE(open.empty()) << "</" << name << "> closes nothing";
      ASSERT_EQ(open.back(), name);
      open.pop_back();
    } else {
      open.push_back(name);
    }
  }
  EXPECT_TRUE(open.empty());
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(Svg, NiceTicksAreRoundAndCoverTheRange) {
  EXPECT_EQ(nice_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  // (12.2 + 3.7) / 6 = 2.65 rounds up to a step of 5.
  EXPECT_EQ(nice_ticks(-3.7, 12.2, 6), (std::vector<double>{0, 5, 10}));
  EXPECT_EQ(nice_ticks(0.013, 0.0504, 4), (std::vector<double>{0.02, 0.03, 0.04, 0.05}));
  EXPECT_EQ(nice_ticks(-1, 1, 4), (std::vector<double>{-1, -0.5, 0, 0.5, 1}));  // a true zero
  EXPECT_FALSE(nice_ticks(3, 3).empty());  // an empty range is widened
}

TEST(Svg, IntegerTicksNeverFallBetweenWholeNumbers) {
  EXPECT_EQ(integer_ticks(1, 2), (std::vector<double>{1, 2}));  // nice_ticks: 1, 1.2, ...
  EXPECT_EQ(integer_ticks(0.5, 3.5), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(integer_ticks(0, 20), (std::vector<double>{0, 5, 10, 15, 20}));  // as nice_ticks
}

TEST(Svg, LogTicksAreDecadesOrRoundMultiples) {
  EXPECT_EQ(log_ticks(0.01, 100), (std::vector<double>{0.01, 0.1, 1, 10, 100}));
  // Under two decades: 1, 2 and 5 times the powers of ten.
  EXPECT_EQ(log_ticks(0.05, 2.3), (std::vector<double>{0.05, 0.1, 0.2, 0.5, 1, 2}));
  // Within one decade, where 1-2-5 gives a single tick: every digit.
  EXPECT_EQ(log_ticks(0.3, 0.9), (std::vector<double>{0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}));
  nabla::testing::expect_error([] { log_ticks(0, 1); }, "0 < lo < hi");
}

TEST(Svg, OptimizerColoursAreFixedByName) {
  EXPECT_STREQ(color_for("nesterov", 0), color_for("nesterov", 7));
  EXPECT_STREQ(color_for("momentum", 0), color_for("sgd+momentum", 3));
  EXPECT_STREQ(color_for("my run", 3), color(3));
  std::set<std::string> distinct;
  for (const char* name : {"sgd", "momentum", "nesterov", "adaptive-gain", "rmsprop", "adam",
                           "adamw", "adagrad", "adadelta", "adamax", "nadam", "swats", "rprop"})
    distinct.insert(color_for(name, 0));
  EXPECT_EQ(distinct.size(), 13u);
}

TEST(Svg, ScaleMapsDataToPixels) {
  const Scale x{0, 10, 100, 300};
  EXPECT_DOUBLE_EQ(x(0), 100);
  EXPECT_DOUBLE_EQ(x(5), 200);
  EXPECT_DOUBLE_EQ(x(10), 300);
  const Scale y{-1, 1, 400, 40};  // SVG's y grows downwards
  EXPECT_DOUBLE_EQ(y(-1), 400);
  EXPECT_DOUBLE_EQ(y(1), 40);
}

TEST(Svg, EscapesText) {
  EXPECT_EQ(escape_xml("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
}

TEST(Svg, LineChartHasAxesLegendAndOneLinePerSeries) {
  LineChart chart{.title = "loss <train>", .x_label = "epoch", .y_label = "loss"};
  chart.series.push_back({"sgd", {1, 2, 3}, {2.0, 1.0, 0.5}});
  chart.series.push_back({"adam & co", {1, 2, 3}, {1.5, 0.7, 0.3}});
  const std::string svg = to_svg(chart);
  expect_well_formed(svg);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  EXPECT_NE(svg.find("loss &lt;train&gt;"), std::string::npos);
  EXPECT_NE(svg.find(">adam &amp; co<"), std::string::npos);
  EXPECT_NE(svg.find(">epoch<"), std::string::npos);
  // The first point of "sgd" (x at its minimum, y at its maximum) is at the left edge of the
  // plot area (margin 72) and 4% of the data's height below its top (margin 40): the y range is
  // padded, so the point does not hide in the frame. The plot area is 480 - 40 - 56 = 384 high.
  const double top = 40 + 384 * 0.04 / 1.08;
  EXPECT_NE(svg.find(fmt::format("points=\"72.0,{:.1f} ", top)), std::string::npos) << svg;
}

// The plot area's width, read from its frame (the black rectangle at the left margin).
double plot_area_width(const std::string& svg) {
  std::smatch m;
  EXPECT_TRUE(
      std::regex_search(svg, m, std::regex(R"re(<rect x="72.0" y="40.0" width="([0-9.]+)")re")));
  return m.empty() ? 0 : std::stod(m[1]);
}

TEST(Svg, LegendSitsBesideThePlotAreaInsideItOrNowhere) {
  LineChart chart;
  chart.series.push_back({"a long label", {0, 1}, {0, 1}});
  const std::string right = to_svg(chart);
  expect_well_formed(right);
  // Beside: the plot area shrinks and the label starts right of it.
  const double area = plot_area_width(right);
  EXPECT_LT(area, 760 - 72 - 24 - 80);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(right, m, std::regex(R"re(<text x="([0-9.]+)"[^>]*>a long label<)re")));
  EXPECT_GT(std::stod(m[1]), 72 + area);

  chart.legend = LegendPlace::Inside;
  const std::string inside = to_svg(chart);
  EXPECT_DOUBLE_EQ(plot_area_width(inside), 760 - 72 - 24);
  EXPECT_NE(inside.find("fill-opacity"), std::string::npos);  // a box over the data
  chart.legend = LegendPlace::None;
  EXPECT_EQ(to_svg(chart).find(">a long label<"), std::string::npos);
}

TEST(Svg, SeriesCanBeColouredDashedAndMarked) {
  LineChart chart{.integer_x = true};
  chart.series.push_back({"train", {1, 2, 3}, {30, 20, 10}, "#123456"});
  chart.series.push_back({"test", {1, 2, 3}, {30, 25, 20}, "#123456", true, true});
  const std::string svg = to_svg(chart);
  expect_well_formed(svg);
  EXPECT_EQ(count(svg, "stroke=\"#123456\""), 4u);  // two lines, two legend samples
  EXPECT_EQ(count(svg, "stroke-dasharray"), 2u);    // the test line and its sample
  EXPECT_EQ(count(svg, "<circle"), 3u);             // one marker per test point
  EXPECT_EQ(svg.find(">2.5<"), std::string::npos);  // whole-number x ticks only
  EXPECT_NE(svg.find(">2<"), std::string::npos);
}

TEST(Svg, GridLaysOutPanelsWithTheirOwnClipAndSharedY) {
  Grid grid{.title = "small multiples", .columns = 2, .share_y = true};
  LineChart small{.title = "small", .width = 300, .height = 200};
  small.series.push_back({"a", {0, 1}, {0, 1}});
  LineChart large{.title = "large", .width = 300, .height = 200};
  large.series.push_back({"b", {0, 1}, {0, 10}});
  grid.panels = {small, large,
                 ContourPlot{.title = "bowl",
                             .x_range = {-1, 1},
                             .y_range = {-1, 1},
                             .f = [](double x, double y) { return x * x + y * y; },
                             .levels = 3,
                             .grid = 10,
                             .width = 300,
                             .height = 200}};
  const std::string svg = to_svg(grid);
  expect_well_formed(svg);
  // Two columns of 300 x 200 cells under the title: two rows.
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600\" height=\"436\"", 0),
            0u);
  EXPECT_NE(svg.find("<svg x=\"300\" y=\"36\" width=\"300\" height=\"200\">"), std::string::npos);
  EXPECT_NE(svg.find("<svg x=\"0\" y=\"236\" "), std::string::npos);
  for (const char* id : {"area0", "area1", "area2"}) {
    EXPECT_EQ(count(svg, std::string("id=\"") + id + "\""), 1u) << id;
    EXPECT_EQ(count(svg, std::string("url(#") + id + ")"), 1u) << id;
  }
  EXPECT_EQ(count(svg, ">10<"), 2u);  // both line panels reach 10 on the shared y axis
}

TEST(Svg, NonFinitePointsBreakTheLine) {
  LineChart chart;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  chart.series.push_back({"diverges", {0, 1, 2, 3, 4}, {1, 2, nan, 3, 4}});
  const std::string svg = to_svg(chart);
  expect_well_formed(svg);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
}

TEST(Svg, LogAxisLabelsDecades) {
  LineChart chart{.log_y = true};
  chart.series.push_back({"loss", {0, 1, 2}, {100, 1, 0.01}});
  const std::string svg = to_svg(chart);
  expect_well_formed(svg);
  for (const char* label : {">100<", ">1<", ">0.01<"})
    EXPECT_NE(svg.find(label), std::string::npos) << label;
}

TEST(Svg, LogXAxisSpacesDecadesEvenly) {
  LineChart chart{.log_x = true};
  chart.series.push_back({"time", {1, 10, 100}, {0, 1, 2}});
  const std::string svg = to_svg(chart);
  expect_well_formed(svg);
  // The three points are equally far apart, and the decades label the x axis.
  const std::regex point(R"(([0-9.]+),([0-9.]+))");
  std::vector<double> xs;
  const size_t at = svg.find("points=\"");
  ASSERT_NE(at, std::string::npos);
  const std::string points = svg.substr(at, svg.find("/>", at) - at);
  for (auto it = std::sregex_iterator(points.begin(), points.end(), point);
       it != std::sregex_iterator(); ++it)
    xs.push_back(std::stod((*it)[1]));
  ASSERT_EQ(xs.size(), 3u);
  EXPECT_NEAR(xs[1] - xs[0], xs[2] - xs[1], 0.2);
  for (const char* label : {">1<", ">10<", ">100<"})
    EXPECT_NE(svg.find(label), std::string::npos) << label;
}

TEST(Svg, ContourOfAQuadraticIsRingsAroundTheMinimum) {
  ContourPlot plot{.title = "bowl",
                   .x_range = {-1, 1},
                   .y_range = {-1, 1},
                   .f = [](double x, double y) { return x * x + y * y; },
                   .levels = 5,
                   .grid = 40};
  plot.paths.push_back({"path", {-0.8, -0.4, 0.0}, {0.8, 0.4, 0.0}});
  plot.stars.push_back({0, 0});
  const std::string svg = to_svg(plot);
  expect_well_formed(svg);
  EXPECT_EQ(count(svg, "<path "), 5u);
  EXPECT_EQ(count(svg, "<polyline"), 1u);
  EXPECT_EQ(count(svg, "<circle"), 3u);  // the path's start and end, and the star
  // Every contour vertex lies inside the plot area (72..616 x 40..504 for 640 x 560).
  const std::regex vertex(R"([ML](-?[0-9.]+) (-?[0-9.]+))");
  int vertices = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), vertex); it != std::sregex_iterator();
       ++it, ++vertices) {
    const double x = std::stod((*it)[1]), y = std::stod((*it)[2]);
    EXPECT_TRUE(x >= 72 && x <= 616 && y >= 40 && y <= 504) << x << "," << y;
  }
  EXPECT_GT(vertices, 100);
}

TEST(Svg, WritesFilesAndReportsFailures) {
  nabla::testing::TempDir dir;
  const std::string path = (dir / "a.svg").string();
  write_file(path, "<svg/>");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "<svg/>");
  nabla::testing::expect_error([&] { write_file((dir / "missing/a.svg").string(), "x"); },
                               "cannot write");
}

}  // namespace
}  // namespace nabla::plot
