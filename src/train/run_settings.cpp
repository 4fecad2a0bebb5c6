// What a training program's options ask of the process and of the run: the threads and device,
// a schedule's missing values derived from the run, and the divergence check (options.h).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "nabla/log.h"
#include "nabla/threads.h"
#include "nabla/train/options.h"

namespace nabla::train {

void apply_run_settings(RunOptions& o) {
  // More threads than cores only wait on each other: each loop ends with its slowest chunk.
  if (o.threads > num_cores()) {
    log_message(LogLevel::Warning,
                fmt::format("{} threads asked for, but this machine has {} cores: using {}",
                            o.threads, num_cores(), num_cores()));
    o.threads = num_cores();
  }
  if (o.threads > 0) set_num_threads(o.threads);
  o.trainer.device = Device::parse(o.device);
}

void check_not_diverged(const EvalResult& result, int64_t num_classes, double lr) {
  const double chance_loss = std::log(static_cast<double>(num_classes));
  NABLA_CHECK(std::isfinite(result.loss) && result.loss <= chance_loss,
              "training diverged: the test loss is {:.4g} (accuracy {:.2f}%), worse than "
              "predicting all {} classes as equally likely (loss {:.4f}). Try a smaller learning "
              "rate (it ended at {:g}; e.g. --lr {:g}), gradient clipping (--clip-grad-norm 1) or "
              "a warm-up (--scheduler linear)",
              result.loss, 100.0 * result.accuracy, num_classes, chance_loss, lr, lr / 10);
}

std::vector<std::string> complete_schedule(RunOptions& o, int64_t train_size) {
  const int64_t b = o.trainer.batch_size;
  const int64_t batches = o.trainer.drop_last ? train_size / b : (train_size + b - 1) / b;
  const int64_t accumulate = std::max<int64_t>(1, o.trainer.accumulate_steps);
  const int64_t per_epoch = (batches + accumulate - 1) / accumulate;  // optimizer steps
  const double lr = std::visit([](const auto& c) { return c.lr; }, o.optimizer);
  std::vector<std::string> derived;
  // The run's length in the schedule's own steps, and how the message names it.
  // max_steps, when it comes first, shortens the run.
  auto run_steps = [&](sched::StepUnit unit) {
    const bool iteration = unit == sched::StepUnit::Iteration;
    int64_t steps = o.trainer.epochs * (iteration ? per_epoch : 1);
    if (o.trainer.max_steps > 0 && per_epoch > 0)
      steps = std::min(steps, iteration ? o.trainer.max_steps
                                        : (o.trainer.max_steps + per_epoch - 1) / per_epoch);
    return std::max<int64_t>(1, steps);
  };
  auto steps_text = [&](sched::StepUnit unit) {
    return fmt::format("{} {}", run_steps(unit),
                       unit == sched::StepUnit::Iteration ? "steps" : "epochs");
  };
  auto note = [&](std::string text) {
    log_message(LogLevel::Info, text);
    derived.push_back(std::move(text));
  };
  std::visit(
      [&](auto& c) {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, sched::ExponentialLRConfig>) {
          if (std::isnan(c.gamma)) {
            c.gamma = std::pow(0.01, 1.0 / static_cast<double>(run_steps(c.unit)));
            note(
                fmt::format("scheduler exponential: gamma = {:.6g} (the lr falls to 1/100 over "
                            "the run's {})",
                            c.gamma, steps_text(c.unit)));
          }
        } else if constexpr (std::is_same_v<C, sched::ExponentialDecayConfig>) {
          if (std::isnan(c.k)) {
            c.k = std::log(100.0) / static_cast<double>(run_steps(c.unit));
            note(
                fmt::format("scheduler exponential-decay: k = {:.6g} (the lr falls to 1/100 "
                            "over the run's {})",
                            c.k, steps_text(c.unit)));
          }
        } else if constexpr (std::is_same_v<C, sched::InverseDecayConfig>) {
          if (std::isnan(c.k)) {
            c.k = 9.0 / static_cast<double>(run_steps(c.unit));
            note(
                fmt::format("scheduler inverse: k = {:.6g} (the lr falls to 1/10 over the "
                            "run's {})",
                            c.k, steps_text(c.unit)));
          }
        } else if constexpr (std::is_same_v<C, sched::StepLRConfig>) {
          if (c.step_size == 0) {
            c.step_size = std::max<int64_t>(1, run_steps(c.unit) / 3);
            note(fmt::format("scheduler step: step_size = {} (a third of the run's {})",
                             c.step_size, steps_text(c.unit)));
          }
        } else if constexpr (std::is_same_v<C, sched::MultiStepLRConfig>) {
          if (c.milestones.empty()) {
            const int64_t n = run_steps(c.unit);
            c.milestones = {std::max<int64_t>(1, n / 2), std::max<int64_t>(1, 3 * n / 4)};
            note(
                fmt::format("scheduler multistep: milestones = {} (half and three quarters of "
                            "the run's {})",
                            fmt::join(c.milestones, ","), steps_text(c.unit)));
          }
        } else if constexpr (std::is_same_v<C, sched::CosineAnnealingLRConfig>) {
          if (c.t_max == 0) {
            c.t_max = run_steps(c.unit);
            note(fmt::format("scheduler cosine: t_max = {} (the run's {})", c.t_max,
                             steps_text(c.unit)));
          }
        } else if constexpr (std::is_same_v<C, sched::CosineAnnealingWarmRestartsConfig>) {
          if (c.t_0 == 0) {
            c.t_0 = std::max<int64_t>(1, run_steps(c.unit) / 3);
            note(fmt::format("scheduler cosine-warm-restarts: t_0 = {} (a third of the run's {})",
                             c.t_0, steps_text(c.unit)));
          }
        } else if constexpr (std::is_same_v<C, sched::CyclicLRConfig>) {
          if (c.max_lr.values.empty()) {
            c.max_lr = lr;
            note(fmt::format("scheduler cyclic: max_lr = {:g} (--lr)", lr));
          }
          if (c.base_lr.values.empty()) {
            c.base_lr = c.max_lr.values[0] / 4.0;
            note(
                fmt::format("scheduler cyclic: base_lr = {:g} (a quarter of max_lr, as Smith "
                            "suggests)",
                            c.base_lr.values[0]));
          }
        } else if constexpr (std::is_same_v<C, sched::OneCycleLRConfig>) {
          if (c.max_lr.values.empty()) {
            c.max_lr = lr;
            note(fmt::format("scheduler onecycle: max_lr = {:g} (--lr)", lr));
          }
          if (!c.total_steps && !c.steps_per_epoch) {
            c.total_steps = run_steps(c.unit);
            note(fmt::format("scheduler onecycle: total_steps = {} (the run's {})", *c.total_steps,
                             steps_text(c.unit)));
          }
        }
      },
      o.scheduler);
  return derived;
}

}  // namespace nabla::train
