// CosineAnnealingWarmRestarts (SGDR): a cosine over t_i steps, then a restart with
// t_i *= t_mult. State: t_cur (steps into the current cosine) and t_i (its length).
#include <numbers>

#include "sched/lr_scheduler.h"

namespace nabla::sched::detail {

namespace {

class CosineAnnealingWarmRestarts final : public LRScheduler {
 public:
  CosineAnnealingWarmRestarts(optim::Optimizer& optimizer,
                              const CosineAnnealingWarmRestartsConfig& c,
                              std::vector<double> base_lrs)
      : LRScheduler(optimizer, c.unit, std::move(base_lrs)),
        t_0_(c.t_0),
        t_mult_(c.t_mult),
        eta_min_(c.eta_min),
        t_i_(c.t_0) {}

  std::string type_name() const override { return "CosineAnnealingWarmRestarts"; }

  // The lrs are a closed form of the base lrs and t_cur.
  void rescale(double from, double to) override {
    for (double& base : base_lrs_) base = base / from * to;
    set_lrs(chainable_lrs());
  }

  // PyTorch's step(0): the start of the first cosine.
  void restart() override {
    t_i_ = t_0_;
    t_cur_ = 0;
    last_step_ = 0;
    set_lrs(chainable_lrs());
  }

 private:
  void advance(std::optional<double>) override {
    if (last_step_ < 0) return restart();
    ++last_step_;
    ++t_cur_;
    if (t_cur_ >= t_i_) {
      t_cur_ -= t_i_;
      t_i_ *= t_mult_;
    }
    set_lrs(chainable_lrs());
  }

  std::vector<double> chainable_lrs() override {
    std::vector<double> lrs;
    const double angle = std::numbers::pi * static_cast<double>(t_cur_) / static_cast<double>(t_i_);
    for (double base : base_lrs_)
      lrs.push_back(eta_min_ + (base - eta_min_) * (1.0 + std::cos(angle)) / 2.0);
    return lrs;
  }

  void save(State& state) const override {
    LRScheduler::save(state);
    state.scalars["t_cur"] = static_cast<double>(t_cur_);
    state.scalars["t_i"] = static_cast<double>(t_i_);
  }

  void load(const State& state) override {
    LRScheduler::load(state);
    constexpr const char* what = "CosineAnnealingWarmRestarts";
    t_cur_ = state.count("t_cur", what, -1);
    t_i_ = state.count("t_i", what, 1);
  }

  int64_t t_0_, t_mult_;
  double eta_min_;
  int64_t t_i_, t_cur_ = -1;
};

}  // namespace

LRSchedulerPtr make(optim::Optimizer& optimizer, const CosineAnnealingWarmRestartsConfig& c,
                    InitialLrs& initial) {
  auto s =
      std::make_unique<CosineAnnealingWarmRestarts>(optimizer, c, initial.get_or_set(optimizer));
  s->initial_step();
  return s;
}

}  // namespace nabla::sched::detail
