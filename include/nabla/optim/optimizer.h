// optim::Optimizer: the interface every optimizer implements, and parameter groups.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nabla/nn/arena.h"
#include "nabla/nn/module.h"
#include "nabla/optim/config.h"
#include "nabla/state.h"

namespace nabla::optim {

// A contiguous range of the parameter arena with its own hyperparameters. Unset fields take the
// optimizer config's values.
struct ParamGroup {
  nn::NamedTensors params;
  std::optional<double> lr;
  std::optional<double> weight_decay;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // Applies one update from the current gradients. Returns false when the update was skipped
  // because a gradient was not finite (the step counter then does not advance).
  virtual bool step() = 0;
  virtual void zero_grad() = 0;
  // "SGD", "Adam", ...: saved with the state and checked on load.
  virtual std::string type_name() const = 0;
  // The config it was made with, for nabla's optimizers (make_optimizer); nullopt for one of
  // another kind (a subclass of a program's own).
  virtual std::optional<OptimizerConfig> config() const { return std::nullopt; }

  // Learning rate of group 0, and setting it for every group.
  double lr() const { return group_lr(0); }
  void set_lr(double lr);
  int64_t num_groups() const { return static_cast<int64_t>(group_lrs_.size()); }
  double group_lr(int64_t group) const;
  void set_group_lr(int64_t group, double lr);
  // The momentum-like hyperparameter that cyclic schedules vary (SGD's momentum, Adam's beta1);
  // nullopt when the optimizer has none.
  virtual std::optional<double> group_momentum(int64_t group) const { return std::nullopt; }
  virtual void set_group_momentum(int64_t group, double momentum);
  // Group g's hyperparameters as a config of the optimizer's type: lr, weight_decay and momentum
  // as the group has them now, the others as it was made with or set_group_config gave them.
  // nullopt for an optimizer without configs.
  virtual std::optional<OptimizerConfig> group_config(int64_t group) const;
  // Sets every hyperparameter of group g at run time, as PyTorch's param_groups[g][name] = value:
  //   auto c = std::get<optim::AdamConfig>(*opt->group_config(1));
  //   c.betas = {0.8, 0.99};
  //   opt->set_group_config(1, c);
  // The config must be of the optimizer's type, valid, and keep its state slots (SGD's momentum
  // cannot go to or from 0, Adam's amsgrad cannot change) and its skip_nonfinite. state_dict()
  // saves a group's own values, so a resumed run goes on with them.
  virtual void set_group_config(int64_t group, const OptimizerConfig& config);
  // Updates applied so far (skipped ones not counted).
  int64_t step_count() const { return step_count_; }

  // Every slot (keyed "<slot>.<parameter name>"), the step counter and each group's
  // hyperparameters. Loading into an optimizer of the same type over parameters of the same names
  // and shapes continues bit for bit like an uninterrupted run on the CPU (the updates are
  // elementwise; SWATS's dot products and the non-finite check are split statically over the
  // threads, so keep the thread count equal).
  virtual State state_dict() const = 0;
  virtual void load_state_dict(const State& state) = 0;

  // The state slot `slot` of the parameter named `param`, a copy of the parameter's shape on its
  // device: `slot` is PyTorch's state key ("momentum_buffer", "exp_avg", "exp_avg_sq",
  // AdaptiveGain's "gains", Rprop's "step_size", ...), the prefix of the slot's keys in
  // state_dict(). Throws nabla::Error naming the slots or parameters there are.
  virtual Tensor state_slot(const std::string& slot, const std::string& param) const;

  // The parameter arena the optimizer updates (null for an optimizer without one). Its flat
  // gradient buffer is what clipping works on.
  virtual std::shared_ptr<nn::ParameterArena> arena() const { return nullptr; }

 protected:
  explicit Optimizer(std::vector<double> group_lrs) : group_lrs_(std::move(group_lrs)) {}
  void check_group(int64_t group) const;

  std::vector<double> group_lrs_;
  int64_t step_count_ = 0;
};

// ---------------------------------------------------------------- what an optimizer has learned

// What SWATS (SWATSConfig) has decided in one parameter group. It takes Adam steps until the
// projected SGD learning rate settles (see SWATSConfig), then SGD steps with momentum beta1 at
// the rate learned then.
struct SWATSPhase {
  bool switched = false;      // it takes SGD steps now
  int64_t switch_step = 0;    // the step whose switching test passed (0: not switched);
                              // SGD steps from switch_step + 1 on
  double sgd_lr = 0.0;        // the SGD learning rate learned at the switch (0: not switched)
  double projected_lr = 0.0;  // the running projection lambda / (1 - beta2^k) after its last Adam
                              // step k (0 before the first): what sgd_lr would be
};

// SWATS's phase in parameter group `group`; throws nabla::Error for another optimizer or group.
SWATSPhase swats_phase(const Optimizer& optimizer, int64_t group = 0);

// AdaptiveGain's (AdaptiveGainConfig) per-weight gains, one tensor per parameter (its name and
// shape, a copy). Gains start at 1 and change at each step as AdaptiveGainConfig describes;
// the same as state_slot("gains", name). Throws nabla::Error for another optimizer.
nn::NamedTensors adaptive_gains(const Optimizer& optimizer);

}  // namespace nabla::optim
