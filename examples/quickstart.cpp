// The README's first program: an MLP on MNIST-format data, checkpointed every epoch.
#include <nabla/nabla.h>

using namespace nabla;

int main() {
  // Real MNIST once scripts/get-mnist.sh has fetched it, else Fashion-MNIST; both normalised.
  auto [source, train_set, test_set] = data::load_mnist();

  auto model = std::make_shared<nn::Sequential>(nn::Flatten(), nn::Linear(784, 256), nn::ReLU(),
                                                nn::Linear(256, 10));

  // Swapping the optimizer is changing this one line, e.g. optim::AdamConfig{.lr = 1e-3}.
  optim::OptimizerConfig optimizer = optim::SGDConfig{.lr = 0.05, .momentum = 0.9};
  sched::SchedulerConfig schedule = sched::StepLRConfig{.step_size = 2, .gamma = 0.5};

  train::Trainer trainer(
      model, optimizer, schedule,
      {.epochs = 3,
       .checkpoint_dir = "runs/quickstart",
       .resume = std::filesystem::exists("runs/quickstart/latest") ? "runs/quickstart" : ""});
  train::History history = trainer.fit(train_set, &test_set);
  if (!history.epochs.empty())
    fmt::print("test accuracy {:.2f}%\n", 100 * *history.epochs.back().test_accuracy);
}
