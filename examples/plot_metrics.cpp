// Plots training curves from the metrics files the trainer writes (--metrics FILE: one JSON
// object per epoch) into two SVG files: the losses into OUT, the accuracies next to it.
//
//   mnist_mlp --metrics runs/sgd.jsonl && mnist_mlp --optimizer adam --metrics runs/adam.jsonl
//   plot_metrics runs/sgd.jsonl runs/adam.jsonl curves.svg   # curves.svg, curves-accuracy.svg
#include <fmt/format.h>

#include <nabla/nabla.h>
#include <nabla/plot/svg.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace nabla;

namespace {

// The series "<run> <split>" of one metric ("loss" or "accuracy") of the run-th metrics file: one
// colour per run (an optimizer's own when the file is named after it), training solid, test
// dashed, a dot per epoch.
std::vector<plot::Series> read_curves(const std::string& path, const std::string& metric,
                                      size_t run_index) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("cannot read '{}'", path));
  const std::string run = std::filesystem::path(path).stem().string();
  const char* colour = plot::color_for(run, run_index);
  plot::Series train{run + " train", {}, {}, colour, false, true};
  plot::Series test{run + " test", {}, {}, colour, true, true};
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.empty()) continue;
    try {
      const nlohmann::json m = nlohmann::json::parse(line);
      const double epoch = m.at("epoch").get<double>();
      train.x.push_back(epoch);
      train.y.push_back(m.at("train_" + metric).get<double>());
      if (!m.at("test_" + metric).is_null()) {
        test.x.push_back(epoch);
        test.y.push_back(m.at("test_" + metric).get<double>());
      }
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(fmt::format("{}:{}: {}", path, line_number, e.what()));
    }
  }
  std::vector<plot::Series> curves{train};
  if (!test.x.empty()) curves.push_back(test);
  return curves;
}

void write_chart(const std::vector<std::string>& inputs, const std::string& metric,
                 const std::string& out) {
  plot::LineChart chart{.title = metric == "loss" ? "Loss" : "Accuracy",
                        .x_label = "epoch",
                        .y_label = metric,
                        .integer_x = true};
  for (size_t i = 0; i < inputs.size(); ++i)
    for (plot::Series& s : read_curves(inputs[i], metric, i)) chart.series.push_back(std::move(s));
  plot::write_file(out, plot::to_svg(chart));
  fmt::print("{}\n", out);
}

int run(int argc, char** argv) {
  std::vector<std::string> files;
  train::CommandLine cli("plot_metrics",
                         "Draws train and test loss per epoch into OUT.svg and the accuracies into "
                         "OUT-accuracy.svg,\none pair of lines per metrics file: one colour per "
                         "file, training solid, test dashed.");
  cli.add_positional("METRICS.jsonl... OUT.svg", "metrics files (--metrics), then the picture",
                     files, 2);
  if (!cli.parse(argc, argv)) return 0;
  const std::vector<std::string> inputs(files.begin(), files.end() - 1);
  const std::filesystem::path out = files.back();
  write_chart(inputs, "loss", out.string());
  write_chart(inputs, "accuracy",
              (out.parent_path() / (out.stem().string() + "-accuracy.svg")).string());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
