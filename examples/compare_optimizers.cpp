// Trains the same MLP (same seed, so the same initial weights and data order) with each
// optimizer, prints a table and draws the training-loss curves into an SVG file: one panel per
// optimizer, its curve in colour over the others' in grey, all on the same axes.
//
//   compare_optimizers                         # 2 epochs each, writes optimizers.svg
//   compare_optimizers --epochs 5 --hidden 128 --plot runs/loss.svg
//   compare_optimizers --train-size 6000       # a random tenth of the training set: quicker
#include <fmt/format.h>

#include <nabla/nabla.h>
#include <nabla/plot/svg.h>

#include "mlp.h"

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
    // Rprop's lr is the initial step size; the largest is kept small for mini-batches.
    {"rprop", optim::RpropConfig{.lr = 1e-3, .step_sizes = {1e-6, 1e-2}}},
};

// Means of consecutive blocks of `losses` (per-step losses are noisy), about 20 points per epoch,
// at x = the epochs done at the block's end.
plot::Series smoothed(const std::string& label, const std::vector<double>& losses,
                      int64_t steps_per_epoch) {
  const size_t block = std::max<size_t>(1, static_cast<size_t>(steps_per_epoch) / 20);
  plot::Series s{label, {}, {}};
  for (size_t begin = 0; begin + block <= losses.size(); begin += block) {
    double sum = 0;
    for (size_t i = begin; i < begin + block; ++i) sum += losses[i];
    s.x.push_back(static_cast<double>(begin + block) / static_cast<double>(steps_per_epoch));
    s.y.push_back(sum / static_cast<double>(block));
  }
  return s;
}

// Small multiples: thirteen tangled curves in one chart read as none; one panel each, with the
// other optimizers in grey behind, shows every curve and where it stands.
plot::Grid loss_panels(const std::string& title, const std::vector<plot::Series>& curves,
                       int64_t epochs) {
  plot::Grid grid{.title = title, .columns = 4, .share_y = true};
  for (size_t k = 0; k < curves.size(); ++k) {
    plot::LineChart panel{.title = curves[k].label,
                          .x_label = "epoch",
                          .y_label = "training loss",
                          .x_range = plot::Range{0, static_cast<double>(epochs)},
                          .log_y = true,
                          .integer_x = true,
                          .legend = plot::LegendPlace::None,
                          .width = 300,
                          .height = 220};
    for (size_t other = 0; other < curves.size(); ++other)
      if (other != k) {
        panel.series.push_back(curves[other]);
        panel.series.back().color = "#d0d0d0";
      }
    panel.series.push_back(curves[k]);  // last: drawn on top
    panel.series.back().color = plot::color_for(curves[k].label, k);
    grid.panels.push_back(std::move(panel));
  }
  return grid;
}

int run(int argc, char** argv) {
  train::RunOptions options;
  options.trainer.epochs = 2;
  options.trainer.batch_size = 64;
  options.trainer.progress = train::ProgressMode::Off;
  example::MlpOptions mlp{.hidden = {128}};
  std::string plot_path = "optimizers.svg";
  int64_t train_size = 0;
  train::CommandLine cli("compare_optimizers",
                         "Trains the same MLP, from the same initial weights and data order, with "
                         "each optimizer at a\nlearning rate fixed in the program, and writes the "
                         "loss curves to an SVG file.");
  cli.add_data_options(options);
  example::add_hidden_option(cli, mlp);
  cli.add_trainer_options(options.trainer,
                          {"epochs", "batch_size", "accumulate_steps", "seed", "clip_grad_norm",
                           "clip_grad_value", "eval_batch_size", "progress", "shuffle", "drop_last",
                           "prefetch", "data_on_device", "precision"});
  cli.add({.name = "plot", .help = "where to write the loss curves", .value_name = "FILE"},
          plot_path);
  cli.add({.name = "train-size",
           .help = "train on a random N of the training images (0: all)",
           .bounds = at_least(0)},
          train_size);
  if (!cli.parse(argc, argv)) return 0;
  if (options.trainer.epochs <= 0)
    throw UsageError(
        fmt::format("--epochs must be > 0 to compare the optimizers' training (got {})",
                    options.trainer.epochs));
  train::apply_run_settings(options);

  const auto [source, all_train, test_set] = data::load_mnist(options.data_dir, options.normalize);
  const int64_t n = train_size == 0 ? all_train.size() : std::min(train_size, all_train.size());
  const data::Subset train_set =
      data::random_split(all_train, {n, all_train.size() - n}, options.trainer.seed)[0];
  const int64_t b = options.trainer.batch_size, steps_per_epoch = (n + b - 1) / b;
  fmt::print("data: {} ({} training images); MLP {}; {} epochs of batch {}\n\n", source.name, n,
             fmt::join(mlp.hidden, "-"), options.trainer.epochs, b);
  fmt::print("{:<14} {:>8} {:>16} {:>13} {:>8}\n", "optimizer", "lr", "final train loss",
             "test accuracy", "seconds");

  std::vector<plot::Series> curves;
  for (const auto& [name, config] : kOptimizers) {
    manual_seed(options.trainer.seed);  // the same initial weights for every optimizer
    auto model = example::make_mlp(train_set.layout().input_shape.numel(), mlp);
    train::Trainer trainer(model, config, sched::NoSchedulerConfig{}, options.trainer);
    std::vector<double> losses;
    trainer.on_step_end = [&](const train::StepInfo& step) { losses.push_back(step.loss); };
    const train::History history = trainer.fit(train_set, &test_set);
    if (history.interrupted) return history.exit_status();
    double seconds = 0;
    for (const auto& e : history.epochs) seconds += e.seconds;
    const train::EpochMetrics& last = history.epochs.back();
    fmt::print("{:<14} {:>8g} {:>16.4f} {:>12.2f}% {:>8.1f}\n", name, trainer.optimizer().lr(),
               last.train_loss, 100.0 * last.test_accuracy.value_or(0.0), seconds);
    curves.push_back(smoothed(name, losses, steps_per_epoch));
  }
  const std::string title = fmt::format("Training loss on {} (mean of every {} steps)", source.name,
                                        std::max<int64_t>(1, steps_per_epoch / 20));
  plot::write_file(plot_path, plot::to_svg(loss_panels(title, curves, options.trainer.epochs)));
  fmt::print("\nloss curves: {}\n", plot_path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
