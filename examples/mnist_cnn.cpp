// Trains the lecture's small convolutional network on MNIST-format data, and runs its
// weight-initialisation experiment: the same network, seed and data order under each scheme.
//
//   mnist_cnn                        # default initialisation, SGD lr 0.05, batch 128
//   mnist_cnn --init he-normal
//   mnist_cnn --init all             # the accuracy table of every scheme, beside the lecture's
//   mnist_cnn --save-weights cnn.safetensors
#include <fmt/format.h>

#include <cmath>
#include <optional>

#include <nabla/nabla.h>

#include "mlp.h"

using namespace nabla;

namespace {

// The schemes, with the test accuracy the lecture reports for each (SGD lr 0.05, batch 128,
// 10 epochs of real MNIST).
struct Scheme {
  std::string init;
  double lecture_accuracy = NAN;  // percent; NaN for a scheme the lecture did not try
};
const Scheme kSchemes[] = {
    {"uniform", 97.63},       {"normal", 97.76},     {"default", 97.77},  {"xavier-uniform", 97.36},
    {"xavier-normal", 97.69}, {"he-uniform", 97.54}, {"he-normal", 97.67}};

// (N, 1, 28, 28) -> (N, 4, 14, 14) -> (N, 8, 7, 7) -> (N, 10)
std::shared_ptr<nn::Sequential> make_cnn(const std::string& init) {
  auto model = std::make_shared<nn::Sequential>(
      nn::Conv2d(1, 4, 3, /*stride=*/1, /*padding=*/1), nn::ReLU(), nn::MaxPool2d(2),
      nn::Conv2d(4, 8, 3, /*stride=*/1, /*padding=*/1), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(),
      nn::Linear(8 * 7 * 7, 10));
  nn::init::apply(*model, nn::init::from_name(init));
  return model;
}

struct Result {
  Scheme scheme;
  double accuracy = 0.0, seconds = 0.0;
  int exit_status = 0;  // of an interrupted run (train::History::exit_status)
};

Result train_one(const train::RunOptions& options, const Scheme& scheme,
                 const data::Dataset& train_set, const data::Dataset& test_set,
                 const example::WeightFiles& files) {
  manual_seed(options.trainer.seed);  // the same data order and draws for every scheme
  auto model = make_cnn(scheme.init);
  if (files.init) train::init_weights_from(*model, *files.init);
  train::Trainer trainer(model, options.optimizer, options.scheduler, options.trainer);
  const train::History history = trainer.fit(train_set, &test_set);
  const train::EvalResult test = trainer.evaluate(test_set);
  if (!history.interrupted)
    train::check_not_diverged(test, data::MNIST::kNumClasses, trainer.optimizer().lr());
  if (files.save && !history.interrupted) {
    train::save_weights(*model, *files.save);
    fmt::print("weights: {}\n", *files.save);
  }
  Result r{scheme, test.accuracy, 0.0, history.exit_status()};
  for (const auto& e : history.epochs) r.seconds += e.seconds;
  return r;
}

int run(int argc, char** argv) {
  train::RunOptions options;
  options.trainer.epochs = 10;
  options.trainer.batch_size = 128;
  options.optimizer = optim::SGDConfig{.lr = 0.05};
  std::string init = "default";
  example::WeightFiles files;
  train::CommandLine cli("mnist_cnn", R"(Trains a small CNN on MNIST-format data:
  Conv(1->4, 3x3, pad 1), ReLU, MaxPool 2, Conv(4->8, 3x3, pad 1), ReLU, MaxPool 2, Linear(392->10)
--init all runs the lecture's weight-initialisation experiment: one run per scheme, each from
the same seed and data order, then a table of test accuracies beside the lecture's (which come
from 10 epochs on real MNIST, the default here). On 2 CPU cores an epoch takes about a second,
the whole table about two minutes.)");
  cli.add_training_options(options);
  cli.add({.name = "init",
           .help = "default, uniform, normal, xavier-uniform, xavier-normal, he-uniform, "
                   "he-normal, or all: one run with each",
           .section = "model",
           .value_name = "NAME"},
          init);
  example::add_weight_options(cli, files);
  if (!cli.parse(argc, argv)) return 0;
  train::apply_run_settings(options);

  const auto [source, train_set, test_set] = data::load_mnist(options.data_dir, options.normalize);
  fmt::print("data: {} ({} training, {} test images{})\n", source.describe(), train_set.size(),
             test_set.size(), options.normalize ? "" : "; inputs not normalised");
  fmt::print("{}\n", nn::summary(*make_cnn("default"), Shape({1, 1, 28, 28})));
  train::complete_schedule(options, train_set.size());

  const bool all = init == "all";
  if (all && (files.init || files.save))
    throw UsageError(
        "--init all trains one network per scheme: --init-weights and "
        "--save-weights are for one network");
  std::vector<Scheme> schemes;
  for (const Scheme& scheme : kSchemes)
    if (all || init == scheme.init) schemes.push_back(scheme);
  if (schemes.empty()) schemes.push_back({init});
  std::vector<Result> results;
  for (const Scheme& scheme : schemes) {
    fmt::print("== init: {}\n", scheme.init);
    results.push_back(train_one(options, scheme, train_set, test_set, files));
    if (results.back().exit_status != 0) return results.back().exit_status;
  }
  // The lecture's numbers are for 10 epochs of real MNIST; beside other runs they are context.
  const bool comparable = source.known && source.name == "MNIST" && options.trainer.epochs == 10;
  fmt::print("\ntest accuracy on {} after {} epochs{}\n", source.name, options.trainer.epochs,
             comparable ? "" : " (the lecture's column: real MNIST, 10 epochs)");
  fmt::print("{:<16} {:>8} {:>8} {:>7} {:>9}\n", "init", "nabla", "lecture", "diff", "seconds");
  double sum = 0, lecture_sum = 0;
  for (const Result& r : results) {
    const double accuracy = 100.0 * r.accuracy;
    const double lecture = r.scheme.lecture_accuracy;
    fmt::print("{:<16} {:>7.2f}% {:>8} {:>7} {:>9.1f}\n", r.scheme.init, accuracy,
               std::isnan(lecture) ? "-" : fmt::format("{:.2f}%", lecture),
               std::isnan(lecture) ? "-" : fmt::format("{:+.2f}", accuracy - lecture), r.seconds);
    sum += accuracy;
    lecture_sum += lecture;
  }
  if (results.size() > 1) {
    const auto n = static_cast<double>(results.size());
    fmt::print("{:<16} {:>7.2f}% {:>7.2f}% {:>+7.2f}\n", "mean", sum / n, lecture_sum / n,
               (sum - lecture_sum) / n);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
