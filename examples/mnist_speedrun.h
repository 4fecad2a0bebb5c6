// The MNIST speedrun's ladder and its timed run, shared by examples/mnist_speedrun.cpp (the
// program) and bench/speedrun_bench.cpp (its benchmark).
//
// Each rung changes one thing from the rung before it, starting from PyTorch's MNIST example.
// What is timed, as in the public speedruns: the training steps and the test evaluations that
// watch for the target, from the first step to the evaluation that first reaches it. Not timed:
// reading the files (the data is in memory), building the model, and one warm-up forward pass.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nabla/nabla.h>

namespace nabla::speedrun {

enum class Net {
  PyTorchExample,  // conv 32, conv 64, pool, dropout, linear 128, dropout, linear 10
  Small,  // conv 8, pool, [batch norm], ReLU, conv 16, pool, [batch norm], ReLU, linear 128
};
enum class Schedule {
  StepDecay,  // the PyTorch example's: lr x 0.7 after every epoch
  OneCycle,   // up from max_lr / 25 over the first 30 % of the steps, then down to ~0
};

// When the test set is checked for the target.
struct Checks {
  bool each_epoch = true;   // at the end of every epoch
  double from_epoch = 0.0;  // and every `every` epochs from this one on (0: never)
  double every = 0.0;
};

struct Rung {
  std::string change;  // what this rung changes from the one before it
  Net net = Net::Small;
  bool batch_norm = false;
  int64_t batch_size = 64;
  optim::OptimizerConfig optimizer = optim::AdadeltaConfig{.lr = 1.0};
  Schedule schedule = Schedule::StepDecay;
  double max_lr = 0.0;           // OneCycle's peak
  double epochs = 14;            // the schedule's length, and the most the rung trains
  double label_smoothing = 0.0;  // of the cross-entropy's targets, as in PyTorch
  Checks checks;
};

inline const std::vector<Rung>& ladder() {
  static const std::vector<Rung> rungs = [] {
    std::vector<Rung> r;
    r.push_back({.change = "PyTorch's MNIST example (Adadelta, batch 64, test each epoch)",
                 .net = Net::PyTorchExample});
    r.push_back({.change = "a small network: conv 8 and 16 channels, pooling first"});
    r.push_back({.change = "batch norm after each pooling", .batch_norm = true});
    r.push_back({.change = "batch 128", .batch_norm = true, .batch_size = 128});
    r.push_back({.change = "Nesterov momentum, one-cycle to lr 0.2 over 2 epochs",
                 .batch_norm = true,
                 .batch_size = 128,
                 .optimizer = optim::SGDConfig{.lr = 0.2, .momentum = 0.9, .nesterov = true},
                 .schedule = Schedule::OneCycle,
                 .max_lr = 0.2,
                 .epochs = 2});
    Rung last = r.back();
    last.change = "one-cycle over 1.5 epochs, the test set checked only in the last quarter";
    last.epochs = 1.5;
    last.checks = {.each_epoch = false, .from_epoch = 1.125, .every = 0.125};
    r.push_back(last);
    last.change = "label smoothing 0.1";
    last.label_smoothing = 0.1;
    r.push_back(last);
    last.change = "weight decay 5e-4";
    last.optimizer =
        optim::SGDConfig{.lr = 0.2, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true};
    r.push_back(last);
    return r;
  }();
  return rungs;
}

inline std::shared_ptr<nn::Sequential> make_net(const Rung& rung) {
  if (rung.net == Net::PyTorchExample)
    return std::make_shared<nn::Sequential>(nn::Conv2d(1, 32, 3), nn::ReLU(), nn::Conv2d(32, 64, 3),
                                            nn::ReLU(), nn::MaxPool2d(2), nn::Dropout(0.25),
                                            nn::Flatten(), nn::Linear(9216, 128), nn::ReLU(),
                                            nn::Dropout(0.5), nn::Linear(128, 10));
  // Max pooling commutes with ReLU (both are monotone), so pooling first gives the same function
  // while ReLU and batch norm run on a quarter of the pixels.
  auto net = std::make_shared<nn::Sequential>();
  const auto block = [&](int64_t in, int64_t out) {
    net->push_back(nn::Conv2d(in, out, 3, /*stride=*/1, /*padding=*/1));
    net->push_back(nn::MaxPool2d(2));
    if (rung.batch_norm) net->push_back(nn::BatchNorm2d(out));
    net->push_back(nn::ReLU());
  };
  block(1, 8);   // (N, 8, 14, 14)
  block(8, 16);  // (N, 16, 7, 7)
  net->push_back(nn::Flatten());
  net->push_back(nn::Linear(16 * 7 * 7, 128));
  net->push_back(nn::ReLU());
  net->push_back(nn::Linear(128, 10));
  return net;
}

inline double test_accuracy(nn::Module& net, const data::Dataset& test_set, Device device) {
  NoGradGuard no_grad;
  net.eval();
  data::DataLoader loader(test_set, {.batch_size = 1000});
  int64_t correct = 0;
  while (auto batch = loader.next()) {
    const Tensor predicted = net(batch->inputs.to(device)).argmax(1);
    correct += static_cast<int64_t>(
        sum(eq(predicted, batch->targets.to(device))).to(Device::cpu()).item<float>());
  }
  net.train();
  return static_cast<double>(correct) / static_cast<double>(test_set.size());
}

struct Check {
  double epoch, seconds, accuracy;
};
struct Result {
  std::vector<Check> checks;  // every test evaluation, in order
  bool reached = false;       // the last check reached the target
  uint64_t digest = 0;        // dist::checksum of the trained weights: equal digests, equal runs
  double seconds() const { return checks.empty() ? 0.0 : checks.back().seconds; }
  double accuracy() const { return checks.empty() ? 0.0 : checks.back().accuracy; }
};

// Trains `rung` from `seed` until the test accuracy first reaches `target`, or its epochs are done.
inline Result run(const Rung& rung, uint64_t seed, double target, const data::Dataset& train_set,
                  const data::Dataset& test_set, Device device) {
  manual_seed(seed);
  auto net = make_net(rung);
  net->to(device);
  auto optimizer = optim::make_optimizer(*net, rung.optimizer);
  data::DataLoader loader(train_set,
                          {.batch_size = rung.batch_size, .shuffle = true, .seed = seed});
  const int64_t per_epoch = loader.num_batches();
  const auto steps_at = [&](double epochs) {
    return static_cast<int64_t>(std::llround(epochs * static_cast<double>(per_epoch)));
  };
  const int64_t total_steps = steps_at(rung.epochs);
  const sched::SchedulerConfig schedule =
      rung.schedule == Schedule::OneCycle
          ? sched::SchedulerConfig(
                sched::OneCycleLRConfig{.max_lr = rung.max_lr, .total_steps = total_steps})
          : sched::SchedulerConfig(sched::StepLRConfig{.step_size = 1, .gamma = 0.7});
  auto scheduler = sched::make_scheduler(*optimizer, schedule);
  const auto checked_at = [&](int64_t step) {
    const Checks& c = rung.checks;
    if (step == total_steps || (c.each_epoch && step % per_epoch == 0)) return true;
    if (c.every <= 0 || step < steps_at(c.from_epoch)) return false;
    return (step - steps_at(c.from_epoch)) % std::max<int64_t>(1, steps_at(c.every)) == 0;
  };
  {  // the first pass allocates what every later one reuses; in eval mode, so that it moves no
     // batch-norm statistics and draws no dropout masks
    NoGradGuard no_grad;
    net->eval();
    (*net)(test_set.get_batch(std::vector<int64_t>{0}).inputs.to(device));
    net->train();
  }

  Result result;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < total_steps && !result.reached;) {
    while (auto batch = loader.next()) {
      optimizer->zero_grad();
      const Tensor loss =
          nn::functional::cross_entropy((*net)(batch->inputs.to(device)), batch->targets.to(device),
                                        nn::Reduction::Mean, rung.label_smoothing);
      loss.backward();
      optimizer->step();
      if (scheduler->unit() == sched::StepUnit::Iteration) scheduler->step();
      if (checked_at(++step)) {
        const double accuracy = test_accuracy(*net, test_set, device);
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        result.checks.push_back({static_cast<double>(step) / static_cast<double>(per_epoch),
                                 elapsed.count(), accuracy});
        result.reached = accuracy >= target;
      }
      if (result.reached || step == total_steps) break;
    }
    if (scheduler->unit() == sched::StepUnit::Epoch && step % per_epoch == 0) scheduler->step();
  }
  result.digest = dist::checksum(optimizer->arena()->flat_params());
  return result;
}

}  // namespace nabla::speedrun
