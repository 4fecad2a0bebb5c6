// Exact resume, shown: train an MLP without a break; train it again but interrupt it after
// --stop-at steps (the step hook raises SIGINT, as Ctrl-C would: the trainer finishes the step,
// writes a checkpoint and returns); resume from that checkpoint in a fresh model and trainer;
// then compare the final weights with the uninterrupted run's.
//
//   resume                              # 2 epochs on 5000 training images, stop at step 70
//   resume --stop-at 120 --dir runs/resume
#include <fmt/format.h>

#include <nabla/nabla.h>

#include <csignal>
#include <filesystem>

using namespace nabla;

namespace {

std::shared_ptr<nn::Module> make_mlp() {
  return std::make_shared<nn::Sequential>(nn::Flatten(), nn::Linear(784, 64), nn::ReLU(),
                                          nn::Linear(64, 10));
}

// The largest |a - b| over all parameters of two models of the same architecture.
double max_difference(const nn::Module& a, const nn::Module& b) {
  const nn::NamedTensors pa = a.named_parameters(), pb = b.named_parameters();
  double diff = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    const std::vector<float> va = pa[i].second.to_vector<float>(),
                             vb = pb[i].second.to_vector<float>();
    for (size_t j = 0; j < va.size(); ++j) diff = std::max(diff, double(std::abs(va[j] - vb[j])));
  }
  return diff;
}

int run(int argc, char** argv) {
  train::RunOptions options;
  options.trainer.epochs = 2;
  options.trainer.batch_size = 50;
  options.trainer.progress = train::ProgressMode::Off;
  options.optimizer = optim::AdamConfig{.lr = 1e-3};
  int64_t stop_at = 70;
  std::string dir = "runs/resume-demo";
  train::CommandLine cli("resume",
                         "Trains an MLP on the first 5000 training images three ways: without a "
                         "break, interrupted\nafter --stop-at steps, and resumed from the "
                         "checkpoint written in --dir (an earlier run's\ncheckpoints there are "
                         "removed first, nothing else); then checks that the weights are "
                         "identical.");
  cli.add_data_options(options);
  cli.add_optimizer_options(options.optimizer);
  cli.add_scheduler_options(options.scheduler);
  cli.add_trainer_options(options.trainer,
                          {"epochs", "batch_size", "accumulate_steps", "seed", "clip_grad_norm",
                           "clip_grad_value", "progress", "shuffle", "drop_last", "precision"});
  cli.add({.name = "stop-at", .help = "the step after which to interrupt", .bounds = at_least(1)},
          stop_at);
  cli.add({.name = "dir", .help = "the checkpoint folder", .value_name = "DIR"}, dir);
  if (!cli.parse(argc, argv)) return 0;
  train::apply_run_settings(options);  // the same threads and device in all three runs
  const int64_t train_size = 5000;
  train::complete_schedule(options, train_size);
  auto mnist =
      std::make_shared<data::MNIST>(data::load_mnist(options.data_dir, options.normalize).train);
  std::vector<int64_t> first(std::min<int64_t>(train_size, mnist->size()));
  for (size_t i = 0; i < first.size(); ++i) first[i] = static_cast<int64_t>(i);
  const data::Subset train_set(mnist, first);

  // 1. Without a break.
  manual_seed(options.trainer.seed);
  auto straight = make_mlp();
  train::Trainer(straight, options.optimizer, options.scheduler, options.trainer).fit(train_set);

  // 2. Interrupted: after step `stop_at` the hook raises SIGINT.
  train::remove_checkpoints(dir);  // an earlier demo's; nothing else in the folder
  options.trainer.checkpoint_dir = dir;
  manual_seed(options.trainer.seed);
  train::Trainer first_part(make_mlp(), options.optimizer, options.scheduler, options.trainer);
  first_part.on_step_end = [&](const train::StepInfo& s) {
    if (s.step == stop_at) std::raise(SIGINT);
  };
  const train::History stopped = first_part.fit(train_set);
  fmt::print("interrupted: {}, at step {} (epoch {}), checkpoint {}\n", stopped.interrupted,
             first_part.global_step(), stopped.epochs.size() + 1, stopped.last_checkpoint);

  // 3. Resumed in a new process's worth of objects: other initial weights, a new trainer.
  manual_seed(options.trainer.seed + 1);
  auto resumed = make_mlp();
  options.trainer.resume = dir;
  train::Trainer second_part(resumed, options.optimizer, options.scheduler, options.trainer);
  int64_t first_step = -1;
  second_part.on_step_end = [&](const train::StepInfo& s) {
    if (first_step < 0) {
      first_step = s.step;
      fmt::print("resumed: first step {} (epoch {}, batch {})\n", s.step, s.epoch, s.batch);
    }
  };
  second_part.fit(train_set);

  const double diff = max_difference(*straight, *resumed);
  fmt::print("after {} steps: largest weight difference to the uninterrupted run: {:g} ({})\n",
             second_part.global_step(), diff, diff == 0.0 ? "identical" : "DIFFERENT");
  return diff == 0.0 && first_step == stop_at + 1 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
