// SequentialLR: runs one schedule after another, switching at milestones. Built as PyTorch
// builds it: every child is constructed on the optimizer (each with its initial step), the lrs
// are reset to the initial ones, the children's steps undone, and the first child started
// again. At a milestone the next child restarts at its step 0 (in closed form where it has one).
#include <algorithm>
#include <type_traits>

#include "sched/lr_scheduler.h"

namespace nabla::sched::detail {

namespace {

constexpr const char* kName = "SequentialLR";

std::string child_prefix(size_t i) {
  return fmt::format("schedulers.{}.", i);
}

class SequentialLR final : public Scheduler {
 public:
  SequentialLR(optim::Optimizer& optimizer, const SequentialLRConfig& c,
               std::vector<LRSchedulerPtr> children, const std::vector<double>& initial_lrs)
      : Scheduler(optimizer, c.unit), milestones_(c.milestones), children_(std::move(children)) {
    set_lrs(initial_lrs);
    for (auto& child : children_) child->rewind();
    children_[0]->initial_step();
    last_step_ = 0;
    last_lrs_ = children_[0]->lrs();
  }

  std::string type_name() const override { return kName; }

  // Every child takes the new base lrs; the one in charge at the current step sets the lrs.
  void rescale(double from, double to) override {
    const size_t active = current_child();
    for (size_t i = 0; i < children_.size(); ++i)
      if (i != active) children_[i]->rescale(from, to);
    children_[active]->rescale(from, to);
    last_lrs_ = children_[active]->lrs();
  }

  bool cycles_momentum() const override {
    return std::any_of(children_.begin(), children_.end(),
                       [](const auto& child) { return child->cycles_momentum(); });
  }

 private:
  // The child whose part of the schedule holds the current step.
  size_t current_child() const {
    return std::upper_bound(milestones_.begin(), milestones_.end(), last_step_) -
           milestones_.begin();
  }

  void advance(std::optional<double>) override {
    ++last_step_;
    const size_t i = current_child();
    LRScheduler& child = *children_[i];
    if (i > 0 && milestones_[i - 1] == last_step_) {
      child.restart();
    } else {
      child.step();
    }
    last_lrs_ = child.lrs();
  }

  void save(State& state) const override {
    for (size_t i = 0; i < children_.size(); ++i) {
      const State child = children_[i]->state_dict();
      const std::string prefix = child_prefix(i);
      for (const auto& [k, v] : child.scalars) state.scalars[prefix + k] = v;
      for (const auto& [k, v] : child.strings) state.strings[prefix + k] = v;
      for (const auto& [k, v] : child.tensors) state.tensors[prefix + k] = v;
    }
  }

  void load(const State& state) override {
    for (size_t i = 0; i < children_.size(); ++i) {
      const std::string prefix = child_prefix(i);
      State child;
      auto extract = [&prefix](const auto& from, auto& to) {
        for (const auto& [k, v] : from)
          if (k.compare(0, prefix.size(), prefix) == 0) to[k.substr(prefix.size())] = v;
      };
      extract(state.scalars, child.scalars);
      extract(state.strings, child.strings);
      extract(state.tensors, child.tensors);
      NABLA_CHECK(!child.strings.empty(), "{}: the saved state has no schedule {} ({} expected)",
                  kName, i, children_.size());
      children_[i]->load_state_dict(child);
    }
  }

  std::vector<int64_t> milestones_;
  std::vector<LRSchedulerPtr> children_;
};

}  // namespace

std::unique_ptr<Scheduler> make(optim::Optimizer& optimizer, const SequentialLRConfig& c,
                                InitialLrs& initial) {
  NABLA_CHECK(!c.schedulers.empty(), "{}: schedulers is empty", kName);
  NABLA_CHECK(c.milestones.size() + 1 == c.schedulers.size(),
              "{}: expected {} milestones (one fewer than the {} schedulers), got {}", kName,
              c.schedulers.size() - 1, c.schedulers.size(), c.milestones.size());
  for (size_t i = 0; i < c.milestones.size(); ++i) {
    NABLA_CHECK(c.milestones[i] > (i == 0 ? 0 : c.milestones[i - 1]),
                "{}: milestones must be positive and increasing (got {} at index {})", kName,
                c.milestones[i], i);
  }
  std::vector<LRSchedulerPtr> children;
  for (size_t i = 0; i < c.schedulers.size(); ++i) {
    children.push_back(std::visit(
        [&](const auto& child) -> LRSchedulerPtr {
          using T = std::decay_t<decltype(child)>;
          if constexpr (std::is_same_v<T, ReduceLROnPlateauConfig> ||
                        std::is_same_v<T, SequentialLRConfig>) {
            NABLA_FAIL(
                "{}: schedulers[{}] is a {}, which cannot be chained", kName, i,
                std::is_same_v<T, SequentialLRConfig> ? "SequentialLR" : "ReduceLROnPlateau");
          } else {
            check_fields(child, scheduler_type(c.schedulers[i]).c_str());
            return make(optimizer, child, initial);
          }
        },
        c.schedulers[i]));
  }
  return std::make_unique<SequentialLR>(optimizer, c, std::move(children),
                                        initial.get_or_set(optimizer));
}

}  // namespace nabla::sched::detail
