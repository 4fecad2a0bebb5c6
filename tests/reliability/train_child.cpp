// The training run that tests/reliability/kill_test.cpp kills and resumes: a small MLP on
// generated data, Adam with a step schedule, a checkpoint after every step, single-threaded.
//   train_child DIR OUT [EPOCHS]
// Resumes from DIR when it holds a checkpoint. Exit status: 0 when the run is complete (the
// final parameters are then written to OUT as raw float32), 3 when SIGINT/SIGTERM stopped it
// (OUT then holds the step it stopped at, as text), 1 on an error.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "nabla/nabla.h"

using namespace nabla;
namespace fs = std::filesystem;

namespace {

bool has_checkpoint(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind("step-", 0) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DIR OUT [EPOCHS]\n", argv[0]);
    return 2;
  }
  try {
    set_num_threads(1);
    const fs::path dir = argv[1];
    // 256 points in 8 dimensions, 4 classes from a fixed linear map.
    Generator data_gen(11);
    const Tensor x = Tensor::randn({256, 8}, &data_gen);
    const Tensor w = Tensor::randn({8, 4}, &data_gen);
    data::TensorDataset train_set(x, argmax(matmul(x, w), 1));

    Generator init(5);
    auto model = std::make_shared<nn::Sequential>(nn::Linear(8, 256, true, &init), nn::ReLU(),
                                                  nn::Linear(256, 4, true, &init));
    train::TrainerConfig config;
    config.epochs = argc > 3 ? std::stoll(argv[3]) : 6;
    config.batch_size = 16;
    config.seed = 7;
    config.checkpoint_dir = dir.string();
    config.checkpoint_every = 1;
    config.keep_last = 2;
    config.progress = train::ProgressMode::Off;
    if (has_checkpoint(dir)) config.resume = dir.string();
    train::Trainer trainer(model, optim::AdamConfig{.lr = 1e-2},
                           sched::StepLRConfig{.step_size = 2, .gamma = 0.5}, config);
    const train::History history = trainer.fit(train_set);

    std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
    if (history.interrupted) {
      out << trainer.global_step() << '\n';
      return 3;
    }
    for (const Tensor& p : model->parameters()) {
      const std::vector<float> v = p.to_vector<float>();
      out.write(reinterpret_cast<const char*>(v.data()),
                static_cast<std::streamsize>(v.size() * sizeof(float)));
    }
    return out.good() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_child: %s\n", e.what());
    return 1;
  }
}
