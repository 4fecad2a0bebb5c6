// ReduceLROnPlateau: cuts the lr when a validation metric stops improving. Unlike the others it
// does not touch the lr when built, and it is stepped with the metric. State: best metric so
// far, bad steps since then, and the cooldown counter.
#include <algorithm>
#include <limits>

#include "sched/lr_scheduler.h"

namespace nabla::sched::detail {

namespace {

class ReduceLROnPlateau final : public Scheduler {
 public:
  ReduceLROnPlateau(optim::Optimizer& optimizer, const ReduceLROnPlateauConfig& c,
                    std::vector<double> min_lrs)
      : Scheduler(optimizer, c.unit), config_(c), min_lrs_(std::move(min_lrs)) {
    last_step_ = 0;
    best_ = worst();
  }

  std::string type_name() const override { return "ReduceLROnPlateau"; }

 private:
  double worst() const {
    const double inf = std::numeric_limits<double>::infinity();
    return config_.mode == PlateauMode::Min ? inf : -inf;
  }

  bool is_better(double a) const {
    const double th = config_.threshold;
    const bool rel = config_.threshold_mode == ThresholdMode::Rel;
    if (config_.mode == PlateauMode::Min) return rel ? a < best_ * (1.0 - th) : a < best_ - th;
    return rel ? a > best_ * (th + 1.0) : a > best_ + th;
  }

  void advance(std::optional<double> metric) override {
    NABLA_CHECK(metric.has_value(),
                "ReduceLROnPlateau: step() needs the validation metric: call step(metric)");
    ++last_step_;
    if (is_better(*metric)) {
      best_ = *metric;
      num_bad_epochs_ = 0;
    } else {
      ++num_bad_epochs_;
    }
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      num_bad_epochs_ = 0;  // bad steps during the cooldown do not count
    }
    std::vector<double> lrs;
    for (int64_t g = 0; g < optimizer_.num_groups(); ++g) lrs.push_back(optimizer_.group_lr(g));
    if (num_bad_epochs_ > config_.patience) {
      for (size_t g = 0; g < lrs.size(); ++g) {
        const double reduced = std::max(lrs[g] * config_.factor, min_lrs_[g]);
        if (lrs[g] - reduced > config_.eps) lrs[g] = reduced;
      }
      cooldown_counter_ = config_.cooldown;
      num_bad_epochs_ = 0;
    }
    set_lrs(lrs);
  }

  void save(State& state) const override {
    state.set_extended("best", best_);
    state.scalars["num_bad_epochs"] = static_cast<double>(num_bad_epochs_);
    state.scalars["cooldown_counter"] = static_cast<double>(cooldown_counter_);
  }

  void load(const State& state) override {
    const char* what = "ReduceLROnPlateau";
    best_ = state.extended("best", what);
    num_bad_epochs_ = state.count("num_bad_epochs", what);
    cooldown_counter_ = state.count("cooldown_counter", what);
  }

  ReduceLROnPlateauConfig config_;
  std::vector<double> min_lrs_;
  double best_ = 0.0;
  int64_t num_bad_epochs_ = 0, cooldown_counter_ = 0;
};

}  // namespace

std::unique_ptr<Scheduler> make(optim::Optimizer& optimizer, const ReduceLROnPlateauConfig& c,
                                InitialLrs&) {
  const char* name = "ReduceLROnPlateau";
  auto min_lrs = per_group(c.min_lr, optimizer.num_groups(), name, "min_lr");
  return std::make_unique<ReduceLROnPlateau>(optimizer, c, std::move(min_lrs));
}

}  // namespace nabla::sched::detail
