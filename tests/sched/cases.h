// The schedules the sched tests run: the configs that tools/gen_sched_fixtures.py builds in
// PyTorch (same names, same values), plus our own schedules, and a reader for the fixtures.
#pragma once

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nabla/error.h"
#include "nabla/sched/scheduler.h"
#include "sched/fake_optimizer.h"

namespace nabla::testing {

struct ScheduleCase {
  std::string name;  // fixture tests/fixtures/sched/<name>.txt, if from_torch
  std::vector<double> lrs;
  std::optional<double> momentum;  // the optimizer's (SGD momentum 0.9 in the fixtures)
  sched::SchedulerConfig config;
  int64_t steps = 300;
  bool from_torch = true;
};

inline std::ostream& operator<<(std::ostream& os, const ScheduleCase& c) {
  return os << c.name;
}

inline std::vector<ScheduleCase> schedule_cases() {
  using namespace sched;
  const std::vector<double> two = {0.1, 0.025}, one = {0.1};
  const double m = 0.9;
  return {
      {"exponential_lr", two, m, ExponentialLRConfig{.gamma = 0.98}},
      {"step_lr", two, m, StepLRConfig{.step_size = 30, .gamma = 0.5}},
      {"multistep_lr", one, m, MultiStepLRConfig{.milestones = {50, 120, 120, 200}, .gamma = 0.3}},
      {"lambda_lr", two, m,
       LambdaLRConfig{.lr_lambda = [](int64_t t) { return 1.0 / (1.0 + 0.05 * t); }}},
      // PyTorch's own example of one lambda per group.
      {"lambda_lr_per_group", two, m,
       LambdaLRConfig{.lr_lambdas = {[](int64_t t) { return static_cast<double>(t / 30); },
                                     [](int64_t t) { return std::pow(0.95, t); }}}},
      {"cosine_annealing_lr", two, m, CosineAnnealingLRConfig{.t_max = 50, .eta_min = 0.001}},
      {"cosine_warm_restarts", two, m,
       CosineAnnealingWarmRestartsConfig{.t_0 = 10, .t_mult = 2, .eta_min = 1e-4}},
      {"cosine_warm_restarts_mult1", one, m, CosineAnnealingWarmRestartsConfig{.t_0 = 7}},
      {"linear_lr", two, m,
       LinearLRConfig{.start_factor = 0.1, .end_factor = 1.0, .total_iters = 40}},
      {"linear_lr_decay", one, m,
       LinearLRConfig{.start_factor = 1.0, .end_factor = 0.2, .total_iters = 150}},
      {"cyclic_triangular", two, m,
       CyclicLRConfig{.base_lr = {0.01, 0.002}, .max_lr = {0.1, 0.05}, .step_size_up = 20}},
      // Without momentum cycling, on an optimizer that has no momentum.
      {"cyclic_triangular2", one, std::nullopt,
       CyclicLRConfig{.base_lr = 0.01,
                      .max_lr = 0.1,
                      .step_size_up = 15,
                      .step_size_down = 25,
                      .mode = CyclicMode::Triangular2,
                      .cycle_momentum = false}},
      {"cyclic_exp_range", two, m,
       CyclicLRConfig{.base_lr = 0.001,
                      .max_lr = 0.1,
                      .step_size_up = 25,
                      .mode = CyclicMode::ExpRange,
                      .gamma = 0.995,
                      .base_momentum = 0.85,
                      .max_momentum = 0.95}},
      {"onecycle_cos", two, m, OneCycleLRConfig{.max_lr = {0.1, 0.05}, .total_steps = 300}},
      {"onecycle_linear_three_phase", one, m,
       OneCycleLRConfig{.max_lr = 0.2,
                        .total_steps = 320,
                        .pct_start = 0.25,
                        .anneal_strategy = AnnealStrategy::Linear,
                        .div_factor = 10.0,
                        .final_div_factor = 100.0,
                        .three_phase = true},
       320},
      {"plateau_min_rel", two, m,
       ReduceLROnPlateauConfig{.mode = PlateauMode::Min,
                               .factor = 0.5,
                               .patience = 5,
                               .threshold = 1e-2,
                               .cooldown = 3,
                               .min_lr = {1e-3, 1e-4}}},
      {"plateau_max_abs", one, m,
       ReduceLROnPlateauConfig{.mode = PlateauMode::Max,
                               .factor = 0.7,
                               .patience = 3,
                               .threshold = 0.005,
                               .threshold_mode = ThresholdMode::Abs,
                               .min_lr = 0.002}},
      {"sequential_warmup_cosine", two, m,
       SequentialLRConfig{.schedulers = {LinearLRConfig{.start_factor = 0.1, .total_iters = 10},
                                         CosineAnnealingLRConfig{.t_max = 100}},
                          .milestones = {10}}},
      {"sequential_three", one, m,
       SequentialLRConfig{.schedulers = {ExponentialLRConfig{.gamma = 0.9},
                                         CosineAnnealingWarmRestartsConfig{.t_0 = 20},
                                         MultiStepLRConfig{.milestones = {30, 60}, .gamma = 0.5}},
                          .milestones = {15, 150}}},
      {"sequential_cyclic", two, m,
       SequentialLRConfig{
           .schedulers = {LinearLRConfig{.start_factor = 0.25, .total_iters = 8},
                          CyclicLRConfig{.base_lr = 0.001, .max_lr = 0.01, .step_size_up = 7}},
           .milestones = {8}}},
      {"sequential_onecycle", two, m,
       SequentialLRConfig{.schedulers = {LinearLRConfig{.start_factor = 0.5, .total_iters = 20},
                                         OneCycleLRConfig{.max_lr = 0.05, .total_steps = 250}},
                          .milestones = {50}}},
      // Ours, without a PyTorch counterpart.
      {"exponential_decay", two, m, ExponentialDecayConfig{.k = 0.02}, 300, false},
      {"inverse_decay", two, m, InverseDecayConfig{.k = 0.05}, 300, false},
      {"none", two, m, NoSchedulerConfig{}, 300, false},
      {"sequential_ours", two, m,
       SequentialLRConfig{
           .schedulers = {LinearLRConfig{.start_factor = 0.25, .total_iters = 8},
                          InverseDecayConfig{.k = 0.1},
                          CyclicLRConfig{.base_lr = 0.001, .max_lr = 0.01, .step_size_up = 7}},
           .milestones = {8, 100}},
       300, false},
  };
}

// A fixture: its column names and rows (row 0 after construction, row i after i steps).
struct ScheduleFixture {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;

  // The column's values, or an empty vector if the fixture has no such column.
  std::vector<double> column(const std::string& name) const {
    std::vector<double> values;
    for (size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == name)
        for (const auto& row : rows) values.push_back(row[c]);
    return values;
  }
};

inline ScheduleFixture read_schedule_fixture(const std::string& name) {
  const std::string path = std::string(NABLA_TEST_FIXTURES) + "/sched/" + name + ".txt";
  std::ifstream in(path);
  NABLA_CHECK(in.good(), "cannot open fixture {} (run tools/gen_sched_fixtures.py)", path);
  ScheduleFixture fixture;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    if (fixture.columns.empty()) {
      for (std::string w; words >> w;) fixture.columns.push_back(w);
      continue;
    }
    std::vector<double> row;
    // strtod reads Python's repr exactly (shortest round-trip form).
    for (std::string w; words >> w;) row.push_back(std::strtod(w.c_str(), nullptr));
    NABLA_CHECK(row.size() == fixture.columns.size(), "fixture {}: bad row '{}'", path, line);
    fixture.rows.push_back(std::move(row));
  }
  return fixture;
}

// The metric fed to step(metric) at step t (ReduceLROnPlateau), from the fixture.
inline std::vector<double> plateau_metrics(const ScheduleCase& c) {
  return c.from_torch ? read_schedule_fixture(c.name).column("metric") : std::vector<double>{};
}

}  // namespace nabla::testing
