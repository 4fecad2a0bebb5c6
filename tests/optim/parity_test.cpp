// Optimizers against PyTorch 1.13 (fixtures from tools/gen_optim_fixtures.py) and, where PyTorch
// has no such optimizer or form, against the written formula as a scalar double-precision loop.
// Same initial parameters and gradient sequence for 120 steps, the lr halved before step 60.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "support/optim_fixtures.h"

using namespace nabla;
using namespace nabla::testing::optim_fixtures;

namespace {

constexpr double kTolerance = 1e-5;  // max relative error, see max_rel_error for the guard

// Runs the fixture's loop with our optimizer; returns the values at each checkpoint step.
std::map<int, Values> run(const optim::OptimizerConfig& config, const Values& initial,
                          const std::vector<int>& checkpoints) {
  std::vector<Tensor> params = make_params(initial);
  auto opt = optim::make_optimizer(params, config);
  std::map<int, Values> out;
  for (int t = 1; t <= kSteps; ++t) {
    if (t == kLrHalvingStep) opt->set_lr(opt->lr() * 0.5);
    set_gradients(params, t);
    EXPECT_TRUE(opt->step());
    for (int c : checkpoints)
      if (c == t) out[t] = values_of(params);
  }
  return out;
}

struct TorchCase {
  const char* name;
  optim::OptimizerConfig config;
};

const TorchCase kTorchCases[] = {
    {"sgd_plain", optim::SGDConfig{.lr = 0.05}},
    {"sgd_weight_decay", optim::SGDConfig{.lr = 0.05, .weight_decay = 0.1}},
    {"sgd_momentum", optim::SGDConfig{.lr = 0.05, .momentum = 0.9}},
    {"sgd_dampening",
     optim::SGDConfig{.lr = 0.05, .momentum = 0.9, .dampening = 0.3, .weight_decay = 0.01}},
    {"sgd_nesterov",
     optim::SGDConfig{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.05, .nesterov = true}},
    {"rmsprop_plain", optim::RMSpropConfig{.lr = 0.01}},
    {"rmsprop_weight_decay", optim::RMSpropConfig{.lr = 0.01, .alpha = 0.9, .weight_decay = 0.1}},
    {"rmsprop_centered", optim::RMSpropConfig{.lr = 0.01, .weight_decay = 0.05, .centered = true}},
    {"rmsprop_momentum", optim::RMSpropConfig{.lr = 0.01, .momentum = 0.9}},
    {"rmsprop_centered_momentum",
     optim::RMSpropConfig{
         .lr = 0.01, .eps = 1e-6, .weight_decay = 0.01, .momentum = 0.5, .centered = true}},
    {"adam_plain", optim::AdamConfig{.lr = 0.01}},
    {"adam_weight_decay", optim::AdamConfig{.lr = 0.01, .betas = {0.8, 0.99}, .weight_decay = 0.1}},
    {"adam_amsgrad", optim::AdamConfig{.lr = 0.01, .weight_decay = 0.01, .amsgrad = true}},
    {"adamw", optim::AdamWConfig{.lr = 0.01, .weight_decay = 0.1}},
    {"adamw_amsgrad", optim::AdamWConfig{.lr = 0.01, .betas = {0.85, 0.995}, .amsgrad = true}},
    {"adagrad",
     optim::AdagradConfig{.lr = 0.1, .lr_decay = 0.01, .initial_accumulator_value = 0.1}},
    {"adagrad_weight_decay", optim::AdagradConfig{.lr = 0.1, .weight_decay = 0.1}},
    {"adadelta", optim::AdadeltaConfig{.lr = 1.0}},
    {"adadelta_weight_decay", optim::AdadeltaConfig{.lr = 0.5, .rho = 0.95, .weight_decay = 0.1}},
    {"adamax", optim::AdamaxConfig{.lr = 0.01}},
    {"adamax_weight_decay",
     optim::AdamaxConfig{.lr = 0.01, .betas = {0.8, 0.99}, .weight_decay = 0.1}},
    {"nadam", optim::NAdamConfig{.lr = 0.01}},
    {"nadam_weight_decay",
     optim::NAdamConfig{.lr = 0.01, .weight_decay = 0.1, .momentum_decay = 0.01}},
    {"rprop", optim::RpropConfig{.lr = 0.01}},
    {"rprop_clamped",
     optim::RpropConfig{.lr = 0.01, .etas = {0.5, 1.5}, .step_sizes = {0.004, 0.02}}},
    {"rprop_growing",
     optim::RpropConfig{.lr = 0.01, .etas = {0.5, 2.0}, .step_sizes = {0.005, 0.05}}},
};

class TorchParity : public ::testing::TestWithParam<TorchCase> {};

TEST_P(TorchParity, MatchesPyTorchAtEveryCheckpoint) {
  const Fixture f = read_fixture(GetParam().name);
  ASSERT_EQ(f.initial.size(), kShapes.size());
  std::vector<int> steps;
  for (const auto& [t, v] : f.checkpoints) steps.push_back(t);
  const auto ours = run(GetParam().config, f.initial, steps);
  for (const auto& [t, expected] : f.checkpoints) {
    const double err = max_rel_error(ours.at(t), expected);
    EXPECT_LT(err, kTolerance) << "step " << t;
  }
  // The parameters moved: the comparison is not vacuous.
  EXPECT_GT(max_rel_error(f.initial, f.checkpoints.rbegin()->second), 1e-2);
}

INSTANTIATE_TEST_SUITE_P(Optim, TorchParity, ::testing::ValuesIn(kTorchCases),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- written-formula references

// A reference optimizer: per-step update of all parameters in double, given step t and lr.
using Reference = std::function<void(std::vector<std::vector<double>>& w,
                                     const std::vector<std::vector<double>>& g, int t, double lr)>;

Values run_reference(const Values& initial, double lr0, const Reference& update) {
  std::vector<std::vector<double>> w(initial.size());
  for (size_t k = 0; k < initial.size(); ++k) w[k].assign(initial[k].begin(), initial[k].end());
  for (int t = 1; t <= kSteps; ++t) {
    const double lr = t >= kLrHalvingStep ? lr0 * 0.5 : lr0;
    std::vector<std::vector<double>> g(w.size());
    for (size_t k = 0; k < w.size(); ++k)
      for (size_t i = 0; i < w[k].size(); ++i)
        g[k].push_back(static_cast<float>(gradient(t, int(k), i)));
    update(w, g, t, lr);
  }
  Values out(w.size());
  for (size_t k = 0; k < w.size(); ++k) out[k].assign(w[k].begin(), w[k].end());
  return out;
}

// Calls f(w, g, k, i) for every element, weight decay already added to g.
template <typename F>
void each(std::vector<std::vector<double>>& w, const std::vector<std::vector<double>>& g, double wd,
          F&& f) {
  for (size_t k = 0; k < w.size(); ++k)
    for (size_t i = 0; i < w[k].size(); ++i) f(w[k][i], g[k][i] + wd * w[k][i], k, i);
}

using Slots = std::vector<std::vector<double>>;
Slots zeros_like(const Values& v, double value = 0.0) {
  Slots s;
  for (const auto& x : v) s.emplace_back(x.size(), value);
  return s;
}

void expect_matches_reference(const optim::OptimizerConfig& config, double lr,
                              const Reference& reference) {
  const Fixture f = read_fixture("sgd_plain");  // only its initial values are used
  const Values expected = run_reference(f.initial, lr, reference);
  const Values ours = run(config, f.initial, {kSteps}).at(kSteps);
  EXPECT_LT(max_rel_error(ours, expected), kTolerance);
  EXPECT_GT(max_rel_error(f.initial, expected), 1e-2);
}

TEST(FormulaParity, AdaptiveGain) {
  for (double wd : {0.0, 0.05}) {
    for (double max_gain : {double(INFINITY), 1.5}) {
      const Fixture f = read_fixture("sgd_plain");
      Slots gains = zeros_like(f.initial, 1.0), prev = zeros_like(f.initial);
      const double beta = 0.1, min_gain = 0.1;
      expect_matches_reference(optim::AdaptiveGainConfig{.lr = 0.02,
                                                         .beta = beta,
                                                         .weight_decay = wd,
                                                         .min_gain = min_gain,
                                                         .max_gain = max_gain},
                               0.02, [&](auto& w, const auto& g, int, double lr) {
                                 each(w, g, wd, [&](double& wi, double d, size_t k, size_t i) {
                                   double& gain = gains[k][i];
                                   if (d * prev[k][i] > 0)
                                     gain += beta;
                                   else if (d * prev[k][i] < 0)
                                     gain *= 1 - beta;
                                   gain = std::min(std::max(gain, min_gain), max_gain);
                                   prev[k][i] = d;
                                   wi -= lr * gain * d;
                                 });
                               });
    }
  }
}

// Adam and AdamW without bias correction (PyTorch has no such switch): the moments as they are,
// w -= lr m / (sqrt(v) + eps), with amsgrad's running maximum of v.
TEST(FormulaParity, AdamWithoutBiasCorrection) {
  for (bool decoupled : {false, true}) {
    for (bool amsgrad : {false, true}) {
      SCOPED_TRACE(std::string(decoupled ? "AdamW" : "Adam") + (amsgrad ? " amsgrad" : ""));
      const Fixture f = read_fixture("sgd_plain");
      Slots m = zeros_like(f.initial), v = zeros_like(f.initial), vmax = zeros_like(f.initial);
      const double b1 = 0.8, b2 = 0.99, eps = 1e-6, wd = 0.05;
      const optim::OptimizerConfig config =
          decoupled ? optim::OptimizerConfig(optim::AdamWConfig{.lr = 0.01,
                                                                .betas = {b1, b2},
                                                                .eps = eps,
                                                                .weight_decay = wd,
                                                                .amsgrad = amsgrad,
                                                                .bias_correction = false})
                    : optim::AdamConfig{.lr = 0.01,
                                        .betas = {b1, b2},
                                        .eps = eps,
                                        .weight_decay = wd,
                                        .amsgrad = amsgrad,
                                        .bias_correction = false};
      expect_matches_reference(config, 0.01, [&](auto& w, const auto& g, int, double lr) {
        each(w, g, decoupled ? 0.0 : wd, [&](double& wi, double d, size_t k, size_t i) {
          if (decoupled) wi *= 1 - lr * wd;
          m[k][i] = b1 * m[k][i] + (1 - b1) * d;
          v[k][i] = b2 * v[k][i] + (1 - b2) * d * d;
          vmax[k][i] = std::max(vmax[k][i], v[k][i]);
          wi -= lr * m[k][i] / (std::sqrt(amsgrad ? vmax[k][i] : v[k][i]) + eps);
        });
      });
    }
  }
}

// Rprop's weight decay is ours (PyTorch's Rprop has none): the rule on d = grad + weight_decay w.
TEST(FormulaParity, RpropWithWeightDecay) {
  const Fixture f = read_fixture("sgd_plain");
  const double wd = 0.05, lr0 = 0.01, eta_minus = 0.5, eta_plus = 1.5, lo = 0.004, hi = 0.02;
  Slots prev = zeros_like(f.initial), size = zeros_like(f.initial, lr0);
  expect_matches_reference(
      optim::RpropConfig{
          .lr = lr0, .etas = {eta_minus, eta_plus}, .step_sizes = {lo, hi}, .weight_decay = wd},
      lr0, [&](auto& w, const auto& g, int, double) {
        each(w, g, wd, [&](double& wi, double d, size_t k, size_t i) {
          const double agree = d * prev[k][i];
          double& s = size[k][i];
          s = std::clamp(s * (agree > 0 ? eta_plus : agree < 0 ? eta_minus : 1.0), lo, hi);
          if (agree < 0) d = 0;
          wi -= (d > 0 ? s : d < 0 ? -s : 0.0);
          prev[k][i] = d;
        });
      });
}

TEST(FormulaParity, ClassicalMomentum) {
  for (bool nesterov : {false, true}) {
    for (double wd : {0.0, 0.05}) {
      const Fixture f = read_fixture("sgd_plain");
      Slots v = zeros_like(f.initial);
      const double a = 0.9;
      expect_matches_reference(optim::SGDConfig{.lr = 0.05,
                                                .momentum = a,
                                                .weight_decay = wd,
                                                .nesterov = nesterov,
                                                .classical = true},
                               0.05, [&](auto& w, const auto& g, int, double lr) {
                                 each(w, g, wd, [&](double& wi, double d, size_t k, size_t i) {
                                   v[k][i] = a * v[k][i] +
                                             lr * d;  // the learning rate inside the velocity
                                   wi -= nesterov ? a * v[k][i] + lr * d : v[k][i];
                                 });
                               });
    }
  }
}

TEST(FormulaParity, ClassicalMomentumDiffersFromPyTorchFormOnceLrChanges) {
  const Fixture f = read_fixture("sgd_momentum");
  const auto classical =
      run(optim::SGDConfig{.lr = 0.05, .momentum = 0.9, .classical = true}, f.initial, {59, 120});
  EXPECT_LT(
      max_rel_error(classical.at(59),
                    run(optim::SGDConfig{.lr = 0.05, .momentum = 0.9}, f.initial, {59}).at(59)),
      kTolerance);
  EXPECT_GT(max_rel_error(classical.at(120), f.checkpoints.at(120)), 1e-3);
}

TEST(FormulaParity, RMSpropEpsInsideSqrt) {
  for (bool centered : {false, true}) {
    for (double wd : {0.0, 0.05}) {
      const Fixture f = read_fixture("sgd_plain");
      Slots ms = zeros_like(f.initial), mg = zeros_like(f.initial);
      const double alpha = 0.9, eps = 1e-4;
      expect_matches_reference(optim::RMSpropConfig{.lr = 0.01,
                                                    .alpha = alpha,
                                                    .eps = eps,
                                                    .weight_decay = wd,
                                                    .centered = centered,
                                                    .eps_inside_sqrt = true},
                               0.01, [&](auto& w, const auto& g, int, double lr) {
                                 each(w, g, wd, [&](double& wi, double d, size_t k, size_t i) {
                                   ms[k][i] = alpha * ms[k][i] + (1 - alpha) * d * d;
                                   mg[k][i] = alpha * mg[k][i] + (1 - alpha) * d;
                                   const double var =
                                       centered ? ms[k][i] - mg[k][i] * mg[k][i] : ms[k][i];
                                   wi -= lr * d / std::sqrt(var + eps);
                                 });
                               });
    }
  }
}

// SWATS: Adam, the projection test after each step, SGD with momentum beta1 after the switch.
struct SwatsReference {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, eps_switch, wd;
  Slots m, v, buf;
  double lambda = 0.0, sgd_lr = 0.0;
  int switched_at = 0;

  void operator()(std::vector<std::vector<double>>& w, const std::vector<std::vector<double>>& g,
                  int t, double lr) {
    if (switched_at > 0) {
      each(w, g, wd, [&](double& wi, double d, size_t k, size_t i) {
        buf[k][i] = beta1 * buf[k][i] + d;
        wi -= (1 - beta1) * sgd_lr * buf[k][i];
      });
      return;
    }
    double pp = 0, pg = 0;
    each(w, g, wd, [&](double& wi, double d, size_t k, size_t i) {
      m[k][i] = beta1 * m[k][i] + (1 - beta1) * d;
      v[k][i] = beta2 * v[k][i] + (1 - beta2) * d * d;
      const double m_hat = m[k][i] / (1 - std::pow(beta1, t));
      const double v_hat = v[k][i] / (1 - std::pow(beta2, t));
      const double p = -lr * m_hat / (std::sqrt(v_hat) + eps);
      wi += p;
      pp += p * p;
      pg += p * d;
    });
    if (pg == 0) return;
    const double gamma = pp / -pg;
    lambda = beta2 * lambda + (1 - beta2) * gamma;
    const double corrected = lambda / (1 - std::pow(beta2, t));
    if (t > 1 && std::abs(corrected - gamma) < eps_switch) {
      switched_at = t;
      sgd_lr = corrected;
    }
  }
};

TEST(FormulaParity, SWATSSwitchesToSGDAsTheReference) {
  for (double wd : {0.0, 0.01}) {
    const Fixture f = read_fixture("sgd_plain");
    const double eps_switch = 2e-3;
    SwatsReference ref{.eps_switch = eps_switch, .wd = wd};
    ref.m = ref.v = ref.buf = zeros_like(f.initial);
    const optim::SWATSConfig config{.lr = 0.01, .weight_decay = wd, .eps_switch = eps_switch};
    expect_matches_reference(config, 0.01, std::ref(ref));
    ASSERT_GT(ref.switched_at, 1) << "the test should exercise the switch";
    ASSERT_LT(ref.switched_at, kSteps - 10);

    std::vector<Tensor> params = make_params(f.initial);
    auto opt = optim::make_optimizer(params, config);
    for (int t = 1; t <= kSteps; ++t) {
      if (t == kLrHalvingStep) opt->set_lr(opt->lr() * 0.5);
      set_gradients(params, t);
      opt->step();
    }
    const nabla::State s = opt->state_dict();
    EXPECT_EQ(s.scalars.at("group.0.swats_switched_at"), ref.switched_at);
    EXPECT_NEAR(s.scalars.at("group.0.swats_sgd_lr"), ref.sgd_lr, 1e-5 * ref.sgd_lr);
    const optim::SWATSPhase phase = optim::swats_phase(*opt);
    EXPECT_TRUE(phase.switched);
    EXPECT_EQ(phase.switch_step, ref.switched_at);
    EXPECT_NEAR(phase.sgd_lr, ref.sgd_lr, 1e-5 * ref.sgd_lr);
  }
}

}  // namespace
