// Trains a multilayer perceptron on MNIST-format data and reports its test accuracy.
// Everything is a flag (--help); the same settings can come from a TOML file (--config).
//
//   mnist_mlp                                   # real MNIST once fetched (scripts/get-mnist.sh)
//   mnist_mlp --dataset fashion-mnist
//   mnist_mlp --optimizer adam --lr 1e-3 --scheduler cosine --t-max 5
//   mnist_mlp --checkpoint-dir runs/mlp         # then, after an interruption:
//   mnist_mlp --checkpoint-dir runs/mlp --resume
//   mnist_mlp --checkpoint-dir runs/mlp --resume --lr 0.005   # its settings, with a new lr
//   mnist_mlp --save-weights mlp.safetensors    # the trained weights, for PyTorch or
//   --init-weights mpirun -np 2 mnist_mlp --distributed        # data-parallel, see
//   docs/distributed.md
#include <fmt/format.h>

#include <optional>
#include <string>

#include <nabla/dist/communicator.h>
#include <nabla/nabla.h>

#include "mlp.h"

using namespace nabla;

namespace {

constexpr const char* kAbout =
    "Trains a multilayer perceptron on MNIST-format data: real MNIST when scripts/get-mnist.sh\n"
    "has fetched it, else Fashion-MNIST from Debian's dataset-fashion-mnist.";

int run(int argc, char** argv) {
  train::RunOptions options;
  options.trainer.epochs = 5;
  options.trainer.batch_size = 64;
  options.optimizer = optim::SGDConfig{.lr = 0.01, .momentum = 0.9};
  example::MlpOptions mlp;
  example::WeightFiles weights;
  bool decay_biases = true;
  train::CommandLine cli("mnist_mlp", kAbout);
  cli.add_training_options(options);
  cli.add({.name = "decay-biases",
           .help = "weight decay on the biases too (off: on the weight matrices only, as "
                   "optim::weight_decay_groups splits them; give it again to resume)",
           .section = "optimizer"},
          decay_biases);
  example::add_mlp_options(cli, mlp);
  example::add_weight_options(cli, weights);
  if (!cli.parse(argc, argv)) return 0;
  train::apply_run_settings(options);
  // Distributed, rank 0 alone prints.
  const bool root = !options.trainer.distributed || dist::mpi_world()->is_root();
  auto print = [root](const std::string& text) {
    if (root) fmt::print("{}", text);
  };

  const auto [source, train_set, test_set] = data::load_mnist(options.data_dir, options.normalize);
  print(fmt::format("data: {} from {} ({} training, {} test images{})\n", source.describe(),
                    source.dir.string(), train_set.size(), test_set.size(),
                    options.normalize ? "" : "; inputs not normalised"));

  manual_seed(options.trainer.seed);
  const Shape image = train_set.layout().input_shape;
  auto model = example::make_mlp(image.numel(), mlp);
  if (weights.init) train::init_weights_from(*model, *weights.init);
  print(fmt::format("{}\n", nn::summary(*model, Shape({1, image[0], image[1], image[2]}))));
  train::complete_schedule(options, train_set.size());

  // Every parameter in one group, as PyTorch's default, or the weights and the rest apart.
  train::Trainer trainer =
      decay_biases ? train::Trainer(model, options.optimizer, options.scheduler, options.trainer)
                   : train::Trainer(model, optim::weight_decay_groups(model->named_parameters()),
                                    options.optimizer, options.scheduler, options.trainer);
  print(fmt::format("optimizer: {}, lr {:g}; device: {}; threads: {}; ranks: {}\n",
                    optim::optimizer_name(options.optimizer), trainer.optimizer().lr(),
                    trainer.config().device.str(), get_num_threads(), trainer.world_size()));
  const train::History history = trainer.fit(train_set, &test_set);
  if (history.interrupted) return history.exit_status();
  if (history.epochs.empty()) {
    print(
        fmt::format("nothing to do: the run already trained {} epochs\n", options.trainer.epochs));
    return 0;
  }
  if (std::holds_alternative<optim::SWATSConfig>(options.optimizer)) {
    const optim::SWATSPhase phase = optim::swats_phase(trainer.optimizer());
    print(phase.switched ? fmt::format("swats: switched to SGD after step {}, SGD lr {:.6g}\n",
                                       phase.switch_step, phase.sgd_lr)
                         : fmt::format("swats: still Adam after {} steps (projected SGD lr {:.6g}; "
                                       "a larger --eps-switch lets it switch)\n",
                                       trainer.optimizer().step_count(), phase.projected_lr));
  }
  const train::EvalResult result = trainer.evaluate(test_set);
  train::check_not_diverged(result, data::MNIST::kNumClasses, trainer.optimizer().lr());
  if (weights.save && root) {
    train::save_weights(*model, *weights.save);
    print(fmt::format("weights: {}\n", *weights.save));
  }
  double seconds = 0;
  for (const auto& e : history.epochs) seconds += e.seconds;
  print(fmt::format(
      "test accuracy {:.2f}% (loss {:.4f}) on {} after {} epochs, {:.1f}s of training\n",
      100.0 * result.accuracy, result.loss, source.name, history.epochs.back().epoch, seconds));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
