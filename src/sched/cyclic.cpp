// The schedules that also cycle momentum: CyclicLR (Smith 2017) and OneCycleLR (Smith & Topin
// 2018). Both are closed forms of the step; their only state is last_step (and base lrs).
// "Momentum" is the optimizer's group_momentum (SGD momentum, Adam beta1).
#include <numbers>

#include "sched/lr_scheduler.h"

namespace nabla::sched::detail {

namespace {

void check_momentum(const optim::Optimizer& optimizer, const char* schedule) {
  NABLA_CHECK(optimizer.group_momentum(0).has_value(),
              "{}: cycle_momentum needs an optimizer with momentum (SGD momentum, Adam beta1); {} "
              "has none, so set cycle_momentum = false",
              schedule, optimizer.type_name());
}

class CyclicLR final : public LRScheduler {
 public:
  CyclicLR(optim::Optimizer& optimizer, const CyclicLRConfig& c, std::vector<double> base_lrs,
           std::vector<double> max_lrs, std::vector<double> base_momenta,
           std::vector<double> max_momenta)
      : LRScheduler(optimizer, c.unit, std::move(base_lrs)),
        max_lrs_(std::move(max_lrs)),
        base_momenta_(std::move(base_momenta)),
        max_momenta_(std::move(max_momenta)),
        mode_(c.mode),
        gamma_(c.gamma),
        scale_fn_(c.scale_fn),
        cycle_momentum_(c.cycle_momentum) {
    const double up = static_cast<double>(c.step_size_up);
    const double down = c.step_size_down ? static_cast<double>(*c.step_size_down) : up;
    total_size_ = up + down;
    step_ratio_ = up / total_size_;
    // The built-in modes fix what the scale sees; a custom scale_fn says it in scale_mode.
    scale_by_cycle_ =
        scale_fn_ ? c.scale_mode == CyclicScaleMode::Cycle : mode_ != CyclicMode::ExpRange;
  }

  std::string type_name() const override { return "CyclicLR"; }
  bool cycles_momentum() const override { return cycle_momentum_; }
  void rescale(double, double) override {
    NABLA_FAIL(
        "CyclicLR sets the lr from its base_lr and max_lr, not from the optimizer's lr: change "
        "those instead");
  }
  // The base lrs follow from the config, so a resume with a changed config takes its values
  // rather than the saved ones.
  void load(const State&) override {}

 private:
  double scale(double x) const {
    if (scale_fn_) return scale_fn_(x);
    switch (mode_) {
      case CyclicMode::Triangular:
        return 1.0;
      case CyclicMode::Triangular2:
        return 1.0 / std::pow(2.0, x - 1.0);
      case CyclicMode::ExpRange:
        return std::pow(gamma_, x);
    }
    NABLA_ASSERT(false, "CyclicLR: unknown mode");
  }

  std::vector<double> chainable_lrs() override {
    const double t = static_cast<double>(last_step_);
    const double cycle = std::floor(1.0 + t / total_size_);
    const double x = 1.0 + t / total_size_ - cycle;  // position in the cycle, [0, 1)
    const double scale_factor =
        x <= step_ratio_ ? x / step_ratio_ : (x - 1.0) / (step_ratio_ - 1.0);
    const double s = scale(scale_by_cycle_ ? cycle : t);
    std::vector<double> lrs;
    for (size_t g = 0; g < base_lrs_.size(); ++g) {
      const double base_height = (max_lrs_[g] - base_lrs_[g]) * scale_factor;
      lrs.push_back(base_lrs_[g] + base_height * s);
    }
    if (cycle_momentum_) {
      for (size_t g = 0; g < base_momenta_.size(); ++g) {
        const double base_height = (max_momenta_[g] - base_momenta_[g]) * scale_factor;
        optimizer_.set_group_momentum(g, max_momenta_[g] - base_height * s);
      }
    }
    return lrs;
  }

  std::vector<double> max_lrs_, base_momenta_, max_momenta_;
  CyclicMode mode_;
  double gamma_;
  std::function<double(double)> scale_fn_;
  bool cycle_momentum_;
  double total_size_ = 0.0, step_ratio_ = 0.0;
  bool scale_by_cycle_ = true;
};

// OneCycleLR's phases: annealing from one per-group value to another until end_step.
enum LrPoint { kInitialLr, kMaxLr, kMinLr };
enum MomentumPoint { kMaxMomentum, kBaseMomentum };
struct Phase {
  double end_step;
  LrPoint start_lr, end_lr;
  MomentumPoint start_momentum, end_momentum;
};

class OneCycleLR final : public LRScheduler {
 public:
  struct Group {
    double lr[3];        // indexed by LrPoint
    double momentum[2];  // indexed by MomentumPoint
  };

  OneCycleLR(optim::Optimizer& optimizer, const OneCycleLRConfig& c, int64_t total_steps,
             std::vector<Group> groups)
      : LRScheduler(optimizer, c.unit, {}),
        total_steps_(total_steps),
        linear_(c.anneal_strategy == AnnealStrategy::Linear),
        cycle_momentum_(c.cycle_momentum),
        groups_(std::move(groups)) {
    for (const Group& g : groups_) base_lrs_.push_back(g.lr[kInitialLr]);
    const double total = static_cast<double>(total_steps);
    const double up_end = c.pct_start * total - 1.0;
    const double last = static_cast<double>(total_steps - 1);
    if (c.three_phase) {
      phases_ = {{up_end, kInitialLr, kMaxLr, kMaxMomentum, kBaseMomentum},
                 {2.0 * c.pct_start * total - 2.0, kMaxLr, kInitialLr, kBaseMomentum, kMaxMomentum},
                 {last, kInitialLr, kMinLr, kMaxMomentum, kMaxMomentum}};
    } else {
      phases_ = {{up_end, kInitialLr, kMaxLr, kMaxMomentum, kBaseMomentum},
                 {last, kMaxLr, kMinLr, kBaseMomentum, kMaxMomentum}};
    }
  }

  std::string type_name() const override { return "OneCycleLR"; }
  bool cycles_momentum() const override { return cycle_momentum_; }
  void rescale(double, double) override {
    NABLA_FAIL(
        "OneCycleLR sets the lr from its max_lr, not from the optimizer's lr: change max_lr "
        "instead");
  }
  // The base lrs follow from the config, so a resume with a changed config takes its values
  // rather than the saved ones.
  void load(const State&) override {}

 private:
  void advance(std::optional<double> metric) override {
    NABLA_CHECK(last_step_ + 1 <= total_steps_,
                "OneCycleLR: tried to step {} times, but total_steps is {}", last_step_ + 1,
                total_steps_);
    LRScheduler::advance(metric);
  }

  double anneal(double start, double end, double pct) const {
    if (linear_) return (end - start) * pct + start;
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
  }

  std::vector<double> chainable_lrs() override {
    const double t = static_cast<double>(last_step_);
    std::vector<double> lrs;
    for (size_t g = 0; g < groups_.size(); ++g) {
      const Group& group = groups_[g];
      double start_step = 0.0;
      for (size_t i = 0; i < phases_.size(); ++i) {
        const Phase& p = phases_[i];
        if (t <= p.end_step || i + 1 == phases_.size()) {
          const double pct = (t - start_step) / (p.end_step - start_step);
          lrs.push_back(anneal(group.lr[p.start_lr], group.lr[p.end_lr], pct));
          if (cycle_momentum_)
            optimizer_.set_group_momentum(
                g, anneal(group.momentum[p.start_momentum], group.momentum[p.end_momentum], pct));
          break;
        }
        start_step = p.end_step;
      }
    }
    return lrs;
  }

  int64_t total_steps_;
  bool linear_, cycle_momentum_;
  std::vector<Group> groups_;
  std::vector<Phase> phases_;
};

}  // namespace

LRSchedulerPtr make(optim::Optimizer& optimizer, const CyclicLRConfig& c, InitialLrs& initial) {
  const char* name = "CyclicLR";
  const int64_t n = optimizer.num_groups();
  auto base_lrs = per_group(c.base_lr, n, name, "base_lr");
  auto max_lrs = per_group(c.max_lr, n, name, "max_lr");
  std::vector<double> base_momenta, max_momenta;
  if (c.cycle_momentum) {
    check_momentum(optimizer, name);
    base_momenta = per_group(c.base_momentum, n, name, "base_momentum");
    max_momenta = per_group(c.max_momentum, n, name, "max_momentum");
  }
  // As PyTorch: the optimizer starts from base_lr and base_momentum.
  for (int64_t g = 0; g < n; ++g) optimizer.set_group_lr(g, base_lrs[g]);
  for (size_t g = 0; g < base_momenta.size(); ++g) optimizer.set_group_momentum(g, base_momenta[g]);
  initial.get_or_set(optimizer);
  auto s = std::make_unique<CyclicLR>(optimizer, c, std::move(base_lrs), std::move(max_lrs),
                                      std::move(base_momenta), std::move(max_momenta));
  s->initial_step();
  return s;
}

LRSchedulerPtr make(optim::Optimizer& optimizer, const OneCycleLRConfig& c, InitialLrs& initial) {
  const char* name = "OneCycleLR";
  int64_t total_steps = 0;
  if (c.total_steps) {
    total_steps = *c.total_steps;
  } else {
    NABLA_CHECK(c.epochs && c.steps_per_epoch,
                "OneCycleLR: set total_steps, or epochs and steps_per_epoch");
    total_steps = *c.epochs * *c.steps_per_epoch;
  }
  const int64_t n = optimizer.num_groups();
  const auto max_lrs = per_group(c.max_lr, n, name, "max_lr");
  std::vector<double> base_momenta(n, 0.0), max_momenta(n, 0.0);
  if (c.cycle_momentum) {
    check_momentum(optimizer, name);
    base_momenta = per_group(c.base_momentum, n, name, "base_momentum");
    max_momenta = per_group(c.max_momentum, n, name, "max_momentum");
  }
  std::vector<OneCycleLR::Group> groups;
  for (int64_t g = 0; g < n; ++g) {
    const double initial_lr = max_lrs[g] / c.div_factor;
    groups.push_back({{initial_lr, max_lrs[g], initial_lr / c.final_div_factor},
                      {max_momenta[g], base_momenta[g]}});
    if (c.cycle_momentum) optimizer.set_group_momentum(g, max_momenta[g]);
  }
  // OneCycleLR overwrites PyTorch's group['initial_lr'] with max_lr / div_factor.
  initial.lrs.emplace();
  for (const auto& g : groups) initial.lrs->push_back(g.lr[kInitialLr]);
  auto s = std::make_unique<OneCycleLR>(optimizer, c, total_steps, std::move(groups));
  s->initial_step();
  return s;
}

}  // namespace nabla::sched::detail
