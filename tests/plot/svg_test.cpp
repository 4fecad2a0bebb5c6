// The SVG writer: round ticks, the data-to-pixel map, escaping, and well-formed output (every
// element closed, coordinates inside the picture, one line per series and per path).
#include "nabla/plot/svg.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <regex>
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
  // The first point of "sgd" (x at its minimum, y at its maximum) is the top-left corner of the
  // plot area: left margin 72, top margin 40.
  EXPECT_NE(svg.find("points=\"72.0,40.0 "), std::string::npos) << svg;
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
  EXPECT_EQ(count(svg, "<circle"), 2u);  // the start of the path and the star
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
