// Schedules given by one formula per group: none, ExponentialLR, ExponentialDecay, StepLR,
// MultiStepLR, InverseDecay, LambdaLR, LinearLR and CosineAnnealingLR. Each writes PyTorch's
// get_lr() (the chainable form: the next lr from the current one, at step t) and, where PyTorch
// has one, its closed form, which SequentialLR uses when it restarts the schedule at step 0.
// Arithmetic is written in PyTorch's order of operations so the values agree to the last bit.
#include <algorithm>
#include <numbers>

#include "sched/lr_scheduler.h"

namespace nabla::sched::detail {

namespace {

constexpr double kPi = std::numbers::pi;

class FormulaScheduler final : public LRScheduler {
 public:
  // lr_t from the current lr, the group's base lr and t.
  using Chainable = std::function<double(double lr, double base_lr, int64_t t)>;
  // lr_t from the group's base lr and t.
  using Closed = std::function<double(double base_lr, int64_t t)>;

  // Without `chainable`, the closed form is get_lr too. `closed` holds no formula, one for every
  // group, or one per group.
  FormulaScheduler(std::string name, optim::Optimizer& optimizer, StepUnit unit,
                   std::vector<double> base_lrs, Chainable chainable, std::vector<Closed> closed)
      : LRScheduler(optimizer, unit, std::move(base_lrs)),
        name_(std::move(name)),
        chainable_(std::move(chainable)),
        closed_(std::move(closed)) {}

  std::string type_name() const override { return name_; }

 private:
  std::vector<double> chainable_lrs() override {
    if (!chainable_) return *closed_form_lrs();
    std::vector<double> lrs = current_lrs();
    for (size_t g = 0; g < lrs.size(); ++g) lrs[g] = chainable_(lrs[g], base_lrs_[g], last_step_);
    return lrs;
  }

  std::optional<std::vector<double>> closed_form_lrs() const override {
    if (closed_.empty()) return std::nullopt;
    std::vector<double> lrs;
    for (size_t g = 0; g < base_lrs_.size(); ++g)
      lrs.push_back(closed_[closed_.size() == 1 ? 0 : g](base_lrs_[g], last_step_));
    return lrs;
  }

  std::string name_;
  Chainable chainable_;
  std::vector<Closed> closed_;
};

LRSchedulerPtr build(const char* name, optim::Optimizer& optimizer, StepUnit unit,
                     InitialLrs& initial, FormulaScheduler::Chainable chainable,
                     std::vector<FormulaScheduler::Closed> closed) {
  auto s = std::make_unique<FormulaScheduler>(name, optimizer, unit, initial.get_or_set(optimizer),
                                              std::move(chainable), std::move(closed));
  s->initial_step();
  return s;
}

LRSchedulerPtr build(const char* name, optim::Optimizer& optimizer, StepUnit unit,
                     InitialLrs& initial, FormulaScheduler::Chainable chainable,
                     FormulaScheduler::Closed closed = {}) {
  std::vector<FormulaScheduler::Closed> formulas;
  if (closed) formulas.push_back(std::move(closed));
  return build(name, optimizer, unit, initial, std::move(chainable), std::move(formulas));
}

// A schedule written only in closed form (ours, or PyTorch's LambdaLR): get_lr is the formula,
// one for every group or one per group.
LRSchedulerPtr build_closed(const char* name, optim::Optimizer& optimizer, StepUnit unit,
                            InitialLrs& initial, std::vector<FormulaScheduler::Closed> closed) {
  return build(name, optimizer, unit, initial, {}, std::move(closed));
}
LRSchedulerPtr build_closed(const char* name, optim::Optimizer& optimizer, StepUnit unit,
                            InitialLrs& initial, FormulaScheduler::Closed closed) {
  return build_closed(name, optimizer, unit, initial, std::vector{std::move(closed)});
}

}  // namespace

LRSchedulerPtr make(optim::Optimizer& optimizer, const NoSchedulerConfig&, InitialLrs& initial) {
  return build("NoScheduler", optimizer, StepUnit::Epoch, initial,
               [](double lr, double, int64_t) { return lr; });
}

LRSchedulerPtr make(optim::Optimizer& optimizer, const ExponentialLRConfig& c,
                    InitialLrs& initial) {
  const double gamma = c.gamma;
  return build(
      "ExponentialLR", optimizer, c.unit, initial,
      [gamma](double lr, double, int64_t t) { return t == 0 ? lr : lr * gamma; },
      [gamma](double base, int64_t t) { return base * std::pow(gamma, static_cast<double>(t)); });
}

LRSchedulerPtr make(optim::Optimizer& optimizer, const ExponentialDecayConfig& c,
                    InitialLrs& initial) {
  const double k = c.k;
  return build_closed("ExponentialDecay", optimizer, c.unit, initial, [k](double base, int64_t t) {
    return base * std::exp(-k * static_cast<double>(t));
  });
}

LRSchedulerPtr make(optim::Optimizer& optimizer, const StepLRConfig& c, InitialLrs& initial) {
  const int64_t size = c.step_size;
  const double gamma = c.gamma;
  return build(
      "StepLR", optimizer, c.unit, initial,
      [size, gamma](double lr, double, int64_t t) {
        return (t == 0 || t % size != 0) ? lr : lr * gamma;
      },
      [size, gamma](double base, int64_t t) {
        return base * std::pow(gamma, static_cast<double>(t / size));
      });
}

LRSchedulerPtr make(optim::Optimizer& optimizer, const MultiStepLRConfig& c, InitialLrs& initial) {
  std::vector<int64_t> milestones = c.milestones;
  std::sort(milestones.begin(), milestones.end());
  const double gamma = c.gamma;
  return build(
      "MultiStepLR", optimizer, c.unit, initial,
      // A milestone listed n times multiplies by gamma^n when it is reached.
      [milestones, gamma](double lr, double, int64_t t) {
        const auto n = std::count(milestones.begin(), milestones.end(), t);
        return n == 0 ? lr : lr * std::pow(gamma, static_cast<double>(n));
      },
      [milestones, gamma](double base, int64_t t) {
        const auto passed = std::upper_bound(milestones.begin(), milestones.end(), t);
        return base * std::pow(gamma, static_cast<double>(passed - milestones.begin()));
      });
}

LRSchedulerPtr make(optim::Optimizer& optimizer, const InverseDecayConfig& c, InitialLrs& initial) {
  const double k = c.k;
  return build_closed("InverseDecay", optimizer, c.unit, initial, [k](double base, int64_t t) {
    return base / (1.0 + k * static_cast<double>(t));
  });
}

LRSchedulerPtr make(optim::Optimizer& optimizer, const LambdaLRConfig& c, InitialLrs& initial) {
  NABLA_CHECK(static_cast<bool>(c.lr_lambda) != !c.lr_lambdas.empty(),
              "LambdaLR: give lr_lambda (one function for every group) or lr_lambdas (one per "
              "group), not {}",
              c.lr_lambda ? "both" : "neither");
  std::vector<std::function<double(int64_t)>> lambdas = c.lr_lambdas;
  if (c.lr_lambda) lambdas = {c.lr_lambda};
  if (!c.lr_lambdas.empty())
    NABLA_CHECK(static_cast<int64_t>(lambdas.size()) == optimizer.num_groups(),
                "LambdaLR: {} lr_lambdas for {} parameter groups (one per group)", lambdas.size(),
                optimizer.num_groups());
  std::vector<FormulaScheduler::Closed> formulas;
  for (size_t g = 0; g < lambdas.size(); ++g) {
    NABLA_CHECK(static_cast<bool>(lambdas[g]), "LambdaLR: lr_lambdas[{}] is empty", g);
    formulas.push_back([f = lambdas[g]](double base, int64_t t) { return base * f(t); });
  }
  return build_closed("LambdaLR", optimizer, c.unit, initial, std::move(formulas));
}

LRSchedulerPtr make(optim::Optimizer& optimizer, const LinearLRConfig& c, InitialLrs& initial) {
  // Its start_factor is above 0: 0 would divide by zero in the chainable form.
  const double start = c.start_factor, end = c.end_factor;
  const int64_t total = c.total_iters;
  return build(
      "LinearLR", optimizer, c.unit, initial,
      [start, end, total](double lr, double, int64_t t) {
        if (t == 0) return lr * start;
        if (t > total) return lr;
        return lr * (1.0 + (end - start) / (static_cast<double>(total) * start +
                                            static_cast<double>(t - 1) * (end - start)));
      },
      [start, end, total](double base, int64_t t) {
        return base * (start + (end - start) * static_cast<double>(std::min(total, t)) /
                                   static_cast<double>(total));
      });
}

LRSchedulerPtr make(optim::Optimizer& optimizer, const CosineAnnealingLRConfig& c,
                    InitialLrs& initial) {
  const double t_max = static_cast<double>(c.t_max), eta_min = c.eta_min;
  const int64_t period = 2 * c.t_max;
  return build(
      "CosineAnnealingLR", optimizer, c.unit, initial,
      [t_max, eta_min, period](double lr, double base, int64_t t) {
        if (t == 0) return lr;
        // At a minimum the ratio below is 0/0: step up by the cosine's first increment instead.
        if ((t - 1 - static_cast<int64_t>(t_max)) % period == 0)
          return lr + (base - eta_min) * (1.0 - std::cos(kPi / t_max)) / 2.0;
        const double td = static_cast<double>(t);
        return (1.0 + std::cos(kPi * td / t_max)) / (1.0 + std::cos(kPi * (td - 1.0) / t_max)) *
                   (lr - eta_min) +
               eta_min;
      },
      [t_max, eta_min](double base, int64_t t) {
        return eta_min +
               (base - eta_min) * (1.0 + std::cos(kPi * static_cast<double>(t) / t_max)) / 2.0;
      });
}

}  // namespace nabla::sched::detail
