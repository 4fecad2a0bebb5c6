// The machinery behind make_scheduler: LRScheduler (PyTorch's _LRScheduler: base lrs, the
// chainable get_lr step, the closed form used when SequentialLR restarts a child), the shared
// "initial lr" of one optimizer, one factory per config, and small helpers for validation and
// saved state. Private to src/sched/.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "nabla/sched/scheduler.h"

namespace nabla::sched::detail {

// PyTorch's group['initial_lr']: set by the first schedule built on an optimizer (OneCycleLR
// overwrites it), read by the others as their base lrs. SequentialLR's children share one.
struct InitialLrs {
  std::optional<std::vector<double>> lrs;
  // The initial lrs, taken from the optimizer's current lrs if no schedule has set them.
  const std::vector<double>& get_or_set(const optim::Optimizer& optimizer);
};

class LRScheduler : public Scheduler {
 public:
  // PyTorch's _initial_step(): back to step -1, then one step.
  void initial_step();
  // SequentialLR "undoes" the initial step of the children it does not start with.
  void rewind() { --last_step_; }
  // PyTorch's step(0) at a SequentialLR milestone: step 0 again, in closed form where there is one.
  virtual void restart();
  bool cycles_momentum() const override { return false; }
  // The closed form at the current step with the new base lrs, where there is one; else the
  // current lrs times the factor.
  void rescale(double from, double to) override;

 protected:
  LRScheduler(optim::Optimizer& optimizer, StepUnit unit, std::vector<double> base_lrs)
      : Scheduler(optimizer, unit), base_lrs_(std::move(base_lrs)) {}

  // PyTorch's get_lr(): the lrs at last_step_, possibly from the optimizer's current lrs.
  virtual std::vector<double> chainable_lrs() = 0;
  // PyTorch's _get_closed_form_lr(), where it exists.
  virtual std::optional<std::vector<double>> closed_form_lrs() const { return std::nullopt; }

  void advance(std::optional<double> metric) override;
  void save(State& state) const override;
  void load(const State& state) override;

  // The optimizer's current lr of every group.
  std::vector<double> current_lrs() const;
  int64_t num_groups() const { return optimizer_.num_groups(); }

  std::vector<double> base_lrs_;
};

// One factory per config. Each validates the config and applies the initial step.
using LRSchedulerPtr = std::unique_ptr<LRScheduler>;
LRSchedulerPtr make(optim::Optimizer&, const NoSchedulerConfig&, InitialLrs&);
LRSchedulerPtr make(optim::Optimizer&, const ExponentialLRConfig&, InitialLrs&);
LRSchedulerPtr make(optim::Optimizer&, const ExponentialDecayConfig&, InitialLrs&);
LRSchedulerPtr make(optim::Optimizer&, const StepLRConfig&, InitialLrs&);
LRSchedulerPtr make(optim::Optimizer&, const MultiStepLRConfig&, InitialLrs&);
LRSchedulerPtr make(optim::Optimizer&, const InverseDecayConfig&, InitialLrs&);
LRSchedulerPtr make(optim::Optimizer&, const LambdaLRConfig&, InitialLrs&);
LRSchedulerPtr make(optim::Optimizer&, const LinearLRConfig&, InitialLrs&);
LRSchedulerPtr make(optim::Optimizer&, const CosineAnnealingLRConfig&, InitialLrs&);
LRSchedulerPtr make(optim::Optimizer&, const CosineAnnealingWarmRestartsConfig&, InitialLrs&);
LRSchedulerPtr make(optim::Optimizer&, const CyclicLRConfig&, InitialLrs&);
LRSchedulerPtr make(optim::Optimizer&, const OneCycleLRConfig&, InitialLrs&);
// These two are not LRSchedulers: SequentialLR cannot chain them.
std::unique_ptr<Scheduler> make(optim::Optimizer&, const ReduceLROnPlateauConfig&, InitialLrs&);
std::unique_ptr<Scheduler> make(optim::Optimizer&, const SequentialLRConfig&, InitialLrs&);

// A PerGroup value resolved to one value per optimizer group; a nabla::Error "<schedule>:
// <field> ..." when it is empty or has another count. (Each field's range is in its table.)
std::vector<double> per_group(const PerGroup& value, int64_t num_groups, const char* schedule,
                              const char* field);

// Saved state: vectors as "<key>.<i>" scalars (a double that may be infinite: State::set_extended).
void save_vector(State& state, const std::string& key, const std::vector<double>& values);
std::vector<double> load_vector(const State& state, const std::string& key, size_t size,
                                const char* what);

}  // namespace nabla::sched::detail
