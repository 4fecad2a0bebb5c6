// The multilayer perceptron that mnist_mlp and compare_optimizers train, its options, and the
// weight files mnist_mlp and mnist_cnn read and write. Declared here, in the examples: the model
// is the program's, not the library's.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nabla/nabla.h>

namespace example {

struct MlpOptions {
  std::vector<int64_t> hidden{256};  // widths of the hidden layers
  std::string init = "default";      // nn::init::from_name: default, uniform, xavier-normal, ...
  double dropout = 0.0;              // after each hidden layer
};

inline void add_hidden_option(nabla::train::CommandLine& cli, MlpOptions& mlp) {
  cli.add({.name = "hidden",
           .help = "hidden layer widths",
           .section = "model",
           .bounds = nabla::at_least(1)},
          mlp.hidden);
}

// --hidden, --init and --dropout ([model] in a TOML file).
inline void add_mlp_options(nabla::train::CommandLine& cli, MlpOptions& mlp) {
  add_hidden_option(cli, mlp);
  cli.add({.name = "init",
           .help = "default, uniform, normal, xavier-uniform, xavier-normal, he-uniform, he-normal",
           .section = "model",
           .value_name = "NAME"},
          mlp.init);
  cli.add({.name = "dropout",
           .help = "dropout probability after each hidden layer",
           .section = "model",
           .value_name = "P",
           .bounds = nabla::half_open(0, 1)},
          mlp.dropout);
}

// Flatten, then Linear and ReLU (and Dropout) per hidden width, then Linear to 10 classes.
inline std::shared_ptr<nabla::nn::Sequential> make_mlp(int64_t inputs, const MlpOptions& mlp) {
  using namespace nabla;
  auto model = std::make_shared<nn::Sequential>(nn::Flatten());
  for (int64_t width : mlp.hidden) {
    model->push_back(nn::Linear(inputs, width));
    model->push_back(nn::ReLU());
    if (mlp.dropout > 0) model->push_back(nn::Dropout(mlp.dropout));
    inputs = width;
  }
  model->push_back(nn::Linear(inputs, 10));
  nn::init::apply(*model, nn::init::from_name(mlp.init));
  return model;
}

// --init-weights and --save-weights: safetensors files, nabla's or (to start from) PyTorch's.
struct WeightFiles {
  std::optional<std::string> init, save;
};

inline void add_weight_options(nabla::train::CommandLine& cli, WeightFiles& files) {
  cli.add({.name = "init-weights",
           .help = "start from these weights (a safetensors file of nabla's or another "
                   "program's, such as PyTorch's save_file) instead of --init",
           .value_name = "FILE"},
          files.init);
  cli.add({.name = "save-weights",
           .help = "write the trained weights there (safetensors, PyTorch's names)",
           .value_name = "FILE"},
          files.save);
}

}  // namespace example
