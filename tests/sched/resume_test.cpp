// Exact resume: save a schedule at step 137, load it into a fresh scheduler on a fresh
// optimizer, continue; the lrs and momenta must equal the uninterrupted run's bit for bit.
#include <gtest/gtest.h>

#include "sched/cases.h"
#include "support/gradcheck.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

constexpr int64_t kSaveAt = 137;

// The optimizer's lrs and momenta after each step in [from, to].
struct Trace {
  std::vector<std::vector<double>> lrs, momenta;
};

void run(sched::Scheduler& scheduler, const FakeOptimizer& optimizer,
         const std::vector<double>& metrics, int64_t from, int64_t to, Trace& trace) {
  for (int64_t t = from; t <= to; ++t) {
    if (metrics.empty()) {
      scheduler.step();
    } else {
      scheduler.step(metrics[t]);
    }
    std::vector<double> lrs, momenta;
    for (int64_t g = 0; g < optimizer.num_groups(); ++g) {
      lrs.push_back(optimizer.group_lr(g));
      if (auto m = optimizer.group_momentum(g)) momenta.push_back(*m);
    }
    EXPECT_EQ(scheduler.lrs(), lrs) << "step " << t;
    trace.lrs.push_back(lrs);
    trace.momenta.push_back(momenta);
  }
}

class Resume : public ::testing::TestWithParam<ScheduleCase> {};

TEST_P(Resume, ContinuesExactly) {
  const ScheduleCase& c = GetParam();
  const std::vector<double> metrics = plateau_metrics(c);

  Trace uninterrupted;
  FakeOptimizer optimizer(c.lrs, c.momentum);
  auto scheduler = sched::make_scheduler(optimizer, c.config);
  run(*scheduler, optimizer, metrics, 1, c.steps, uninterrupted);

  Trace resumed;
  State state;
  {
    FakeOptimizer first(c.lrs, c.momentum);
    auto before = sched::make_scheduler(first, c.config);
    run(*before, first, metrics, 1, kSaveAt, resumed);
    state = before->state_dict();
  }
  FakeOptimizer fresh(c.lrs, c.momentum);
  auto after = sched::make_scheduler(fresh, c.config);
  after->load_state_dict(state);
  EXPECT_EQ(after->last_step(), kSaveAt);
  EXPECT_EQ(after->type_name(), scheduler->type_name());
  run(*after, fresh, metrics, kSaveAt + 1, c.steps, resumed);

  ASSERT_EQ(resumed.lrs.size(), uninterrupted.lrs.size());
  for (size_t t = 0; t < resumed.lrs.size(); ++t) {
    ASSERT_EQ(resumed.lrs[t], uninterrupted.lrs[t]) << c.name << " lrs after step " << t + 1;
    ASSERT_EQ(resumed.momenta[t], uninterrupted.momenta[t])
        << c.name << " momenta after step " << t + 1;
  }
  EXPECT_EQ(after->last_step(), c.steps);
}

INSTANTIATE_TEST_SUITE_P(Sched, Resume, ::testing::ValuesIn(schedule_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Resume, PlateauSavedBeforeAnyStep) {
  // best is still +infinity then; the state stores it without an infinite number.
  const sched::ReduceLROnPlateauConfig config{.patience = 0};
  FakeOptimizer a({0.1}), b({0.1});
  auto first = sched::make_scheduler(a, config);
  const State state = first->state_dict();
  for (const auto& [key, value] : state.scalars) EXPECT_TRUE(std::isfinite(value)) << key;
  auto second = sched::make_scheduler(b, config);
  second->load_state_dict(state);
  for (double metric : {1.0, 0.5, 0.6, 0.7}) {
    first->step(metric);
    second->step(metric);
    EXPECT_EQ(first->lr(), second->lr());
  }
  EXPECT_LT(first->lr(), 0.1);
}

TEST(Resume, LoadChecksTypeAndGroups) {
  FakeOptimizer one({0.1}), two({0.1, 0.2});
  auto step = sched::make_scheduler(one, sched::StepLRConfig{.step_size = 3});
  auto exponential = sched::make_scheduler(one, sched::ExponentialLRConfig{.gamma = 0.9});
  expect_error([&] { exponential->load_state_dict(step->state_dict()); },
               "ExponentialLR: cannot load the saved state of a StepLR schedule");
  auto step_two = sched::make_scheduler(two, sched::StepLRConfig{.step_size = 3});
  expect_error([&] { step_two->load_state_dict(step->state_dict()); }, "one per parameter group");
  expect_error([&] { step->load_state_dict(State{}); }, "no entry 'type'");
}

}  // namespace
