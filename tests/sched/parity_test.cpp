// Every schedule PyTorch has, against torch.optim.lr_scheduler (1.13): the lr of every group
// (and the momentum, where it is cycled) after construction and after each of >= 300 steps.
#include <gtest/gtest.h>

#include <cmath>

#include "sched/cases.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

// The fixtures hold PyTorch's doubles; we compute in the same order of operations, so most
// values agree bit for bit. 1e-9 leaves room for a libm that rounds cos/pow differently.
constexpr double kRelTol = 1e-9;

void expect_matches(const std::vector<double>& actual, const std::vector<double>& expected,
                    const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t t = 0; t < actual.size(); ++t) {
    const double err = std::abs(actual[t] - expected[t]);
    ASSERT_TRUE(err <= kRelTol * std::abs(expected[t]))
        << what << " at step " << t << ": " << actual[t] << " vs torch " << expected[t];
  }
}

class TorchParity : public ::testing::TestWithParam<ScheduleCase> {};

TEST_P(TorchParity, MatchesPyTorch) {
  const ScheduleCase& c = GetParam();
  const ScheduleFixture fixture = read_schedule_fixture(c.name);
  ASSERT_EQ(static_cast<int64_t>(fixture.rows.size()), c.steps + 1);
  const std::vector<double> metrics = fixture.column("metric");

  FakeOptimizer optimizer(c.lrs, c.momentum);
  auto scheduler = sched::make_scheduler(optimizer, c.config);
  const size_t groups = c.lrs.size();
  std::vector<std::vector<double>> lrs(groups), momenta(groups);
  auto record = [&] {
    for (size_t g = 0; g < groups; ++g) {
      EXPECT_EQ(scheduler->lrs()[g], optimizer.group_lr(g));
      lrs[g].push_back(optimizer.group_lr(g));
      if (c.momentum) momenta[g].push_back(*optimizer.group_momentum(g));
    }
  };
  record();
  EXPECT_EQ(scheduler->last_step(), 0);
  for (int64_t t = 1; t <= c.steps; ++t) {
    if (metrics.empty()) {
      scheduler->step();
    } else {
      scheduler->step(metrics[t]);
    }
    record();
  }
  EXPECT_EQ(scheduler->last_step(), c.steps);
  for (size_t g = 0; g < groups; ++g) {
    expect_matches(lrs[g], fixture.column("lr" + std::to_string(g)), "lr" + std::to_string(g));
    const auto torch_momenta = fixture.column("momentum" + std::to_string(g));
    if (!torch_momenta.empty())
      expect_matches(momenta[g], torch_momenta, "momentum" + std::to_string(g));
  }
}

std::vector<ScheduleCase> torch_cases() {
  std::vector<ScheduleCase> cases;
  for (auto& c : schedule_cases())
    if (c.from_torch) cases.push_back(c);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Sched, TorchParity, ::testing::ValuesIn(torch_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
