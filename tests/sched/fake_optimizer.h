// FakeOptimizer: an optim::Optimizer that holds N parameter groups (lrs and, optionally,
// momenta) and nothing else, for testing schedules without a model.
#pragma once

#include <optional>
#include <vector>

#include "nabla/optim/optimizer.h"

namespace nabla::testing {

class FakeOptimizer final : public optim::Optimizer {
 public:
  // Groups with these lrs; with `momentum`, each group also has that momentum (as SGD's).
  explicit FakeOptimizer(std::vector<double> lrs, std::optional<double> momentum = std::nullopt)
      : Optimizer(std::move(lrs)) {
    if (momentum) momenta_.assign(num_groups(), *momentum);
  }

  bool step() override {
    ++step_count_;
    return true;
  }
  void zero_grad() override {}
  std::string type_name() const override { return "FakeOptimizer"; }

  std::optional<double> group_momentum(int64_t group) const override {
    if (momenta_.empty()) return std::nullopt;
    check_group(group);
    return momenta_[group];
  }
  void set_group_momentum(int64_t group, double momentum) override {
    if (momenta_.empty()) return Optimizer::set_group_momentum(group, momentum);
    check_group(group);
    momenta_[group] = momentum;
  }

  State state_dict() const override { return {}; }
  void load_state_dict(const State&) override {}

 private:
  std::vector<double> momenta_;
};

}  // namespace nabla::testing
