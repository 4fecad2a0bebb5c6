// Trains the same MLP (same seed, so the same initial weights and data order) with each
// optimizer, prints a table and draws the training-loss curves into an SVG file.
//
//   compare_optimizers                         # 2 epochs each, writes optimizers.svg
//   compare_optimizers --epochs 5 --hidden 128 --plot runs/loss.svg
#include <fmt/format.h>

#include <nabla/nabla.h>
#include <nabla/plot/svg.h>

using namespace nabla;

namespace {

// Learning rates that suit an MLP on MNIST; the rest are PyTorch's defaults.
const std::vector<std::pair<std::string, optim::OptimizerConfig>> kOptimizers = {
    {"sgd", optim::SGDConfig{.lr = 0.1}},
    {"sgd+momentum", optim::SGDConfig{.lr = 0.05, .momentum = 0.9}},
    {"nesterov", optim::SGDConfig{.lr = 0.05, .momentum = 0.9, .nesterov = true}},
    {"adaptive-gain", optim::AdaptiveGainConfig{.lr = 0.05, .min_gain = 0.1, .max_gain = 10}},
    {"rmsprop", optim::RMSpropConfig{.lr = 1e-3}},
    {"adam", optim::AdamConfig{.lr = 1e-3}},
    {"adamw", optim::AdamWConfig{.lr = 1e-3}},
    {"adagrad", optim::AdagradConfig{.lr = 1e-2}},
    {"adadelta", optim::AdadeltaConfig{.lr = 1.0}},
    {"adamax", optim::AdamaxConfig{.lr = 2e-3}},
    {"nadam", optim::NAdamConfig{.lr = 2e-3}},
    {"swats", optim::SWATSConfig{.lr = 1e-3}},
};

std::shared_ptr<nn::Sequential> make_mlp(int64_t inputs, const std::vector<int64_t>& hidden) {
  auto model = std::make_shared<nn::Sequential>(nn::Flatten());
  for (int64_t width : hidden) {
    model->push_back(nn::Linear(inputs, width));
    model->push_back(nn::ReLU());
    inputs = width;
  }
  model->push_back(nn::Linear(inputs, 10));
  return model;
}

// Means of consecutive blocks of `losses`, about 200 points per curve: per-step losses are noisy.
plot::Series smoothed(const std::string& label, const std::vector<double>& losses) {
  const size_t block = std::max<size_t>(1, losses.size() / 200);
  plot::Series s{label, {}, {}};
  for (size_t begin = 0; begin + block <= losses.size(); begin += block) {
    double sum = 0;
    for (size_t i = begin; i < begin + block; ++i) sum += losses[i];
    s.x.push_back(static_cast<double>(begin + block));
    s.y.push_back(sum / static_cast<double>(block));
  }
  return s;
}

int run(int argc, char** argv) {
  const std::string plot_path = train::take_flag(argc, argv, "plot").value_or("optimizers.svg");
  train::RunOptions options;
  options.model.hidden = {128};
  options.trainer.epochs = 2;
  options.trainer.batch_size = 64;
  options.trainer.progress = train::ProgressMode::Off;
  const train::RunOptions defaults = options;
  train::apply_command_line(options, argc, argv);
  if (options.help) {
    fmt::print(
        "{}",
        train::usage(
            "compare_optimizers", defaults,
            R"(Trains the same MLP with each optimizer (its learning rate is fixed in the program; the
optimizer flags do not apply) and writes the loss curves to --plot FILE (default: optimizers.svg).
)"));
    return 0;
  }
  train::apply_run_settings(options);

  const auto [source, train_set, test_set] = data::load_mnist(options.data_dir);
  fmt::print("data: {}; MLP {}; {} epochs of batch {}\n\n", source.name,
             fmt::join(options.model.hidden, "-"), options.trainer.epochs,
             options.trainer.batch_size);
  fmt::print("{:<14} {:>8} {:>16} {:>13} {:>8}\n", "optimizer", "lr", "final train loss",
             "test accuracy", "seconds");

  plot::LineChart chart{.title = fmt::format("Training loss on {}", source.name),
                        .x_label = "iteration",
                        .y_label = "training loss (block mean)"};
  for (const auto& [name, config] : kOptimizers) {
    manual_seed(options.trainer.seed);  // the same initial weights for every optimizer
    auto model = make_mlp(train_set.layout().input_shape.numel(), options.model.hidden);
    train::Trainer trainer(model, config, sched::NoSchedulerConfig{}, options.trainer);
    std::vector<double> losses;
    trainer.on_step_end = [&](const train::StepInfo& step) { losses.push_back(step.loss); };
    const train::History history = trainer.fit(train_set, &test_set);
    if (history.interrupted) return 130;
    double seconds = 0;
    for (const auto& e : history.epochs) seconds += e.seconds;
    const train::EpochMetrics& last = history.epochs.back();
    fmt::print("{:<14} {:>8g} {:>16.4f} {:>12.2f}% {:>8.1f}\n", name, trainer.optimizer().lr(),
               last.train_loss, 100.0 * last.test_accuracy.value_or(0.0), seconds);
    chart.series.push_back(smoothed(name, losses));
  }
  plot::write_file(plot_path, plot::to_svg(chart));
  fmt::print("\nloss curves: {}\n", plot_path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
