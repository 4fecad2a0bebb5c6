// The lecture's schedules against their formulas, config validation, units, names, and the
// errors a user can run into while stepping.
#include <gtest/gtest.h>

#include <cmath>

#include "sched/cases.h"
#include "support/gradcheck.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

constexpr int64_t kSteps = 300;

TEST(Formulas, ExponentialDecayIsLr0TimesExpMinusKt) {
  FakeOptimizer optimizer({0.1, 0.03});
  auto s = sched::make_scheduler(optimizer, sched::ExponentialDecayConfig{.k = 0.02});
  for (int64_t t = 0; t <= kSteps; ++t) {
    if (t > 0) s->step();
    // Closed form, computed the same way: exact.
    EXPECT_EQ(optimizer.group_lr(0), 0.1 * std::exp(-0.02 * t)) << t;
    EXPECT_EQ(optimizer.group_lr(1), 0.03 * std::exp(-0.02 * t)) << t;
  }
}

TEST(Formulas, ExponentialDecayEqualsExponentialLRWithGammaExpMinusK) {
  FakeOptimizer a({0.1}), b({0.1});
  auto decay = sched::make_scheduler(a, sched::ExponentialDecayConfig{.k = 0.05});
  auto exponential = sched::make_scheduler(b, sched::ExponentialLRConfig{.gamma = std::exp(-0.05)});
  for (int64_t t = 1; t <= kSteps; ++t) {
    decay->step();
    exponential->step();
    // ExponentialLR multiplies step by step: t roundings of about 1.1e-16 each.
    EXPECT_NEAR(decay->lr(), exponential->lr(), 1e-13 * decay->lr()) << t;
  }
}

TEST(Formulas, InverseDecayIsLr0Over1PlusKt) {
  FakeOptimizer optimizer({0.1, 0.03});
  auto s = sched::make_scheduler(optimizer, sched::InverseDecayConfig{.k = 0.05});
  for (int64_t t = 0; t <= kSteps; ++t) {
    if (t > 0) s->step();
    EXPECT_EQ(optimizer.group_lr(0), 0.1 / (1.0 + 0.05 * t)) << t;
    EXPECT_EQ(optimizer.group_lr(1), 0.03 / (1.0 + 0.05 * t)) << t;
  }
}

TEST(Formulas, StepLRWithGammaHalfHalves) {
  FakeOptimizer optimizer({0.1});
  auto s = sched::make_scheduler(optimizer, sched::StepLRConfig{.step_size = 10, .gamma = 0.5});
  for (int64_t t = 1; t <= 100; ++t) {
    s->step();
    if (t % 10 == 0) {
      EXPECT_EQ(s->lr(), 0.1 / std::pow(2.0, t / 10)) << t;
    }
  }
}

TEST(Formulas, NoSchedulerNeverChangesTheLr) {
  FakeOptimizer optimizer({0.1, 0.02});
  auto s = sched::make_scheduler(optimizer, sched::NoSchedulerConfig{});
  EXPECT_EQ(s->type_name(), "NoScheduler");
  for (int t = 0; t < 50; ++t) s->step(1.0 / (t + 1));
  EXPECT_EQ(s->lrs(), (std::vector<double>{0.1, 0.02}));
  EXPECT_EQ(optimizer.group_lr(1), 0.02);
  EXPECT_EQ(s->last_step(), 50);
}

TEST(Scheduler, UnitComesFromTheConfig) {
  FakeOptimizer optimizer({0.1}, 0.9);
  EXPECT_EQ(sched::make_scheduler(optimizer, sched::StepLRConfig{.step_size = 2})->unit(),
            sched::StepUnit::Epoch);
  auto onecycle = sched::make_scheduler(
      optimizer,
      sched::OneCycleLRConfig{.max_lr = 0.1, .total_steps = 100, .unit = sched::StepUnit::Epoch});
  EXPECT_EQ(onecycle->unit(), sched::StepUnit::Epoch);
  EXPECT_EQ(sched::make_scheduler(optimizer, sched::NoSchedulerConfig{})->unit(),
            sched::StepUnit::Epoch);
}

// PyTorch programs step the cyclical schedules per batch; their configs default to that, and
// every other schedule to per epoch.
TEST(Scheduler, CyclicalSchedulesStepPerBatchByDefault) {
  EXPECT_EQ(sched::CyclicLRConfig{}.unit, sched::StepUnit::Iteration);
  EXPECT_EQ(sched::OneCycleLRConfig{}.unit, sched::StepUnit::Iteration);
  EXPECT_EQ(sched::CosineAnnealingLRConfig{}.unit, sched::StepUnit::Epoch);
  EXPECT_EQ(sched::StepLRConfig{}.unit, sched::StepUnit::Epoch);
  FakeOptimizer optimizer({0.1}, 0.9);
  EXPECT_EQ(sched::make_scheduler(optimizer, sched::CyclicLRConfig{.base_lr = 0.01, .max_lr = 0.1})
                ->unit(),
            sched::StepUnit::Iteration);
}

TEST(Scheduler, MetricIsIgnoredExceptByPlateau) {
  FakeOptimizer a({0.1}), b({0.1});
  auto with = sched::make_scheduler(a, sched::ExponentialLRConfig{.gamma = 0.5});
  auto without = sched::make_scheduler(b, sched::ExponentialLRConfig{.gamma = 0.5});
  with->step(123.0);
  without->step();
  EXPECT_EQ(with->lr(), without->lr());
}

TEST(Scheduler, PlateauNeedsAMetric) {
  FakeOptimizer optimizer({0.1});
  auto s = sched::make_scheduler(optimizer, sched::ReduceLROnPlateauConfig{});
  EXPECT_EQ(s->lr(), 0.1);  // not changed when built
  expect_error([&] { s->step(); }, "ReduceLROnPlateau: step() needs the validation metric");
}

TEST(Scheduler, OneCycleRefusesToStepPastTotalSteps) {
  FakeOptimizer optimizer({0.1}, 0.9);
  auto s = sched::make_scheduler(
      optimizer, sched::OneCycleLRConfig{.max_lr = 0.1, .epochs = 2, .steps_per_epoch = 5});
  for (int t = 0; t < 10; ++t) s->step();
  expect_error([&] { s->step(); }, "OneCycleLR: tried to step 11 times, but total_steps is 10");
  EXPECT_EQ(s->last_step(), 10);
}

TEST(Scheduler, CyclicWithAdamLikeMomentumCyclesIt) {
  FakeOptimizer optimizer({0.1, 0.2}, 0.9);
  auto s = sched::make_scheduler(
      optimizer, sched::CyclicLRConfig{.base_lr = 0.01, .max_lr = 0.1, .step_size_up = 4});
  EXPECT_EQ(*optimizer.group_momentum(1), 0.9);  // max_momentum at the bottom of the cycle
  for (int t = 0; t < 4; ++t) s->step();
  EXPECT_DOUBLE_EQ(s->lr(), 0.1);
  EXPECT_DOUBLE_EQ(*optimizer.group_momentum(0), 0.8);
}

TEST(Names, ParseShortAndPyTorchNames) {
  EXPECT_TRUE(std::holds_alternative<sched::StepLRConfig>(sched::scheduler_from_name("step")));
  EXPECT_TRUE(
      std::holds_alternative<sched::CosineAnnealingLRConfig>(sched::scheduler_from_name("cosine")));
  EXPECT_TRUE(std::holds_alternative<sched::CosineAnnealingLRConfig>(
      sched::scheduler_from_name("CosineAnnealingLR")));
  EXPECT_TRUE(std::holds_alternative<sched::NoSchedulerConfig>(sched::scheduler_from_name("none")));
  EXPECT_TRUE(std::holds_alternative<sched::ReduceLROnPlateauConfig>(
      sched::scheduler_from_name("plateau")));
  expect_error([] { sched::scheduler_from_name("warmup"); },
               "unknown schedule 'warmup' (known: none, exponential,");
}

struct InvalidCase {
  sched::SchedulerConfig config;
  std::string error;
  std::optional<double> momentum = 0.9;
};

TEST(Validation, InvalidConfigsNameTheField) {
  using namespace sched;
  const std::vector<InvalidCase> cases = {
      {ExponentialLRConfig{}, "ExponentialLR: gamma is required (must be > 0)"},
      {ExponentialLRConfig{.gamma = 0.0}, "ExponentialLR: invalid gamma 0 (must be > 0)"},
      {ExponentialDecayConfig{}, "ExponentialDecay: k is required"},
      {ExponentialDecayConfig{.k = -1.0}, "ExponentialDecay: invalid k -1 (must be >= 0)"},
      {StepLRConfig{}, "StepLR: step_size is required (must be >= 1)"},
      {StepLRConfig{.step_size = 5, .gamma = -0.5}, "StepLR: invalid gamma -0.5 (must be > 0)"},
      {MultiStepLRConfig{.milestones = {10, -3}},
       "MultiStepLR: invalid milestones[1] -3 (must be >= 0)"},
      {InverseDecayConfig{.k = std::numeric_limits<double>::infinity()},
       "InverseDecay: invalid k inf"},
      {CyclicLRConfig{.max_lr = 0.1}, "CyclicLR: base_lr is required"},
      {CyclicLRConfig{.base_lr = 0.01}, "CyclicLR: max_lr is required"},
      {CyclicLRConfig{.base_lr = {0.01, 0.02, 0.03}, .max_lr = 0.1},
       "CyclicLR: base_lr has 3 values but the optimizer has 2 parameter groups"},
      {CyclicLRConfig{.base_lr = -0.01, .max_lr = 0.1},
       "CyclicLR: invalid base_lr[0] -0.01 (must be >= 0)"},
      {CyclicLRConfig{.base_lr = 0.01, .max_lr = 0.1, .step_size_up = 0},
       "CyclicLR: invalid step_size_up 0 (must be >= 1)"},
      {CyclicLRConfig{.base_lr = 0.01, .max_lr = 0.1}, "CyclicLR: cycle_momentum needs",
       std::nullopt},
      {LambdaLRConfig{},
       "LambdaLR: give lr_lambda (one function for every group) or lr_lambdas "
       "(one per group), not neither"},
      {LambdaLRConfig{.lr_lambda = [](int64_t) { return 1.0; },
                      .lr_lambdas = {[](int64_t) { return 1.0; }, [](int64_t) { return 1.0; }}},
       "LambdaLR: give lr_lambda (one function for every group) or lr_lambdas (one per group), "
       "not both"},
      {LambdaLRConfig{.lr_lambdas = {[](int64_t) { return 1.0; }}},
       "LambdaLR: 1 lr_lambdas for 2 parameter groups (one per group)"},
      {CosineAnnealingLRConfig{}, "CosineAnnealingLR: t_max is required (must be >= 1)"},
      {CosineAnnealingWarmRestartsConfig{}, "CosineAnnealingWarmRestarts: t_0 is required"},
      {CosineAnnealingWarmRestartsConfig{.t_0 = 5, .t_mult = 0},
       "CosineAnnealingWarmRestarts: invalid t_mult 0 (must be >= 1)"},
      {LinearLRConfig{.start_factor = 0.0}, "LinearLR: invalid start_factor 0 (must be in (0, 1])"},
      {LinearLRConfig{.end_factor = 1.5}, "LinearLR: invalid end_factor 1.5 (must be in [0, 1])"},
      {LinearLRConfig{.total_iters = 0}, "LinearLR: invalid total_iters 0 (must be >= 1)"},
      {OneCycleLRConfig{.total_steps = 10}, "OneCycleLR: max_lr is required"},
      {OneCycleLRConfig{.max_lr = 0.1},
       "OneCycleLR: set total_steps, or epochs and steps_per_epoch"},
      {OneCycleLRConfig{.max_lr = 0.1, .total_steps = 0}, "OneCycleLR: invalid total_steps 0"},
      {OneCycleLRConfig{.max_lr = 0.1, .total_steps = 10, .pct_start = 1.5},
       "OneCycleLR: invalid pct_start 1.5 (must be in [0, 1])"},
      {OneCycleLRConfig{.max_lr = 0.1, .total_steps = 10, .div_factor = 0.0},
       "OneCycleLR: invalid div_factor 0 (must be > 0)"},
      {OneCycleLRConfig{.max_lr = 0.1, .total_steps = 10}, "OneCycleLR: cycle_momentum needs",
       std::nullopt},
      {ReduceLROnPlateauConfig{.factor = 1.0},
       "ReduceLROnPlateau: invalid factor 1 (must be in [0, 1))"},
      {ReduceLROnPlateauConfig{.patience = -1}, "ReduceLROnPlateau: invalid patience -1"},
      {ReduceLROnPlateauConfig{.cooldown = -2}, "ReduceLROnPlateau: invalid cooldown -2"},
      {ReduceLROnPlateauConfig{.min_lr = {0.1, 0.2, 0.3}},
       "ReduceLROnPlateau: min_lr has 3 values"},
      {SequentialLRConfig{}, "SequentialLR: schedulers is empty"},
      {SequentialLRConfig{.schedulers = {LinearLRConfig{}, StepLRConfig{.step_size = 2}}},
       "SequentialLR: expected 1 milestones (one fewer than the 2 schedulers), got 0"},
      {SequentialLRConfig{
           .schedulers = {LinearLRConfig{}, StepLRConfig{.step_size = 2}, LinearLRConfig{}},
           .milestones = {10, 10}},
       "SequentialLR: milestones must be positive and increasing (got 10 at index 1)"},
      {SequentialLRConfig{.schedulers = {LinearLRConfig{}, ReduceLROnPlateauConfig{}},
                          .milestones = {5}},
       "SequentialLR: schedulers[1] is a ReduceLROnPlateau, which cannot be chained"},
      {SequentialLRConfig{.schedulers = {LinearLRConfig{}, StepLRConfig{}}, .milestones = {5}},
       "StepLR: step_size is required"},
  };
  for (const InvalidCase& c : cases) {
    FakeOptimizer optimizer({0.1, 0.05}, c.momentum);
    expect_error([&] { sched::make_scheduler(optimizer, c.config); }, c.error);
  }
}

}  // namespace
