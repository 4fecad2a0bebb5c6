// Optimizer behaviour beyond the update formulas: exact resume from a saved state, swapping
// configs in one training loop, parameter groups, clipping, skipping non-finite steps, config
// validation and names.
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "nabla/threads.h"
#include "support/gradcheck.h"
#include "support/optim_fixtures.h"

using namespace nabla;
using nabla::testing::expect_close;
using nabla::testing::expect_error;
namespace fx = nabla::testing::optim_fixtures;

namespace {

// One config of each type, with the flags that add state switched on.
std::vector<optim::OptimizerConfig> every_config() {
  return {optim::SGDConfig{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true},
          optim::AdaptiveGainConfig{.lr = 0.01, .max_gain = 10.0},
          optim::RMSpropConfig{.lr = 0.01, .momentum = 0.5, .centered = true},
          optim::AdamConfig{.lr = 0.05, .amsgrad = true},
          optim::AdamWConfig{.lr = 0.05, .bias_correction = false},
          optim::AdagradConfig{.lr = 0.1},
          optim::AdadeltaConfig{.lr = 1.0},
          optim::AdamaxConfig{.lr = 0.05},
          optim::NAdamConfig{.lr = 0.05},
          optim::SWATSConfig{.lr = 0.05, .eps_switch = 2e-3},
          optim::RpropConfig{.lr = 0.01, .weight_decay = 0.01}};
}

bool bitwise_equal(const fx::Values& a, const fx::Values& b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k)
    if (a[k].size() != b[k].size() ||
        std::memcmp(a[k].data(), b[k].data(), a[k].size() * sizeof(float)) != 0)
      return false;
  return true;
}

TEST(Optimizer, ResumeFromStep37IsBitwiseIdentical) {
  const fx::Fixture f = fx::read_fixture("sgd_plain");
  for (const auto& config : every_config()) {
    SCOPED_TRACE(optim::optimizer_name(config));
    auto run = [&](optim::Optimizer& opt, const std::vector<Tensor>& params, int from, int to) {
      for (int t = from; t <= to; ++t) {
        if (t == fx::kLrHalvingStep) opt.set_lr(opt.lr() * 0.5);
        fx::set_gradients(params, t);
        opt.step();
      }
    };
    auto params = fx::make_params(f.initial);
    auto opt = optim::make_optimizer(params, config);
    run(*opt, params, 1, fx::kSteps);

    auto first = fx::make_params(f.initial);
    auto opt1 = optim::make_optimizer(first, config);
    run(*opt1, first, 1, 37);
    const State saved = opt1->state_dict();
    // A fresh optimizer over fresh parameters holding the step-37 values.
    auto second = fx::make_params(fx::values_of(first));
    auto opt2 = optim::make_optimizer(second, config);
    opt2->load_state_dict(saved);
    EXPECT_EQ(opt2->step_count(), 37);
    run(*opt2, second, 38, fx::kSteps);
    EXPECT_TRUE(bitwise_equal(fx::values_of(second), fx::values_of(params)));
    EXPECT_TRUE(bitwise_equal(fx::values_of({saved.tensors.begin()->second}),
                              fx::values_of({opt1->state_dict().tensors.begin()->second})));
  }
}

TEST(Optimizer, StateIsKeyedByParameterName) {
  nn::NamedTensors params = {{"0.weight", Tensor::ones({2, 2}).requires_grad(true)},
                             {"0.bias", Tensor::ones({2}).requires_grad(true)}};
  auto opt = optim::make_optimizer(params, optim::AdamConfig{});
  const State s = opt->state_dict();
  EXPECT_EQ(s.strings.at("type"), "Adam");
  EXPECT_EQ(s.tensors.at("exp_avg.0.weight").shape(), Shape({2, 2}));
  EXPECT_EQ(s.tensors.at("exp_avg_sq.0.bias").shape(), Shape({2}));
  EXPECT_EQ(s.tensors.count("max_exp_avg_sq.0.bias"), 0u);
  EXPECT_EQ(s.scalars.at("group.0.lr"), 1e-3);
}

TEST(Optimizer, LoadStateReportsEveryMismatch) {
  nn::NamedTensors a = {{"w", Tensor::ones({2, 2}).requires_grad(true)},
                        {"b", Tensor::ones({2}).requires_grad(true)}};
  nn::NamedTensors b = {{"w", Tensor::ones({3}).requires_grad(true)},
                        {"c", Tensor::ones({2}).requires_grad(true)}};
  auto opt_a = optim::make_optimizer(a, optim::AdamConfig{});
  auto opt_b = optim::make_optimizer(b, optim::AdamConfig{});
  try {
    opt_b->load_state_dict(opt_a->state_dict());
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'exp_avg.w' has shape [2, 2], expected [3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing 'exp_avg.c'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unexpected 'exp_avg_sq.b'"), std::string::npos) << msg;
  }
  auto sgd = optim::make_optimizer(a, optim::SGDConfig{});
  expect_error([&] { sgd->load_state_dict(opt_a->state_dict()); }, "of a Adam optimizer, not SGD");
}

// The group keys of a state: "group.0.<name>" -> name.
std::set<std::string> group_keys(const State& s) {
  std::set<std::string> names;
  for (const auto& [key, value] : s.scalars)
    if (key.rfind("group.0.", 0) == 0) names.insert(key.substr(8));
  return names;
}

// Each optimizer saves only its own group state: NAdam's mu product and SWATS's switch state
// are theirs alone (every optimizer's checkpoint used to hold them).
TEST(Optimizer, GroupStateIsTheOptimizersOwn) {
  const std::set<std::string> shared = {"lr", "weight_decay"};
  const std::set<std::string> with_momentum = {"lr", "weight_decay", "momentum"};
  for (const auto& config : every_config()) {
    const std::string name = optim::optimizer_name(config);
    SCOPED_TRACE(name);
    Tensor w = Tensor::ones({3}).requires_grad(true);
    auto opt = optim::make_optimizer({w}, config);
    w.grad().fill_(0.5);
    ASSERT_TRUE(opt->step());
    std::set<std::string> expected = opt->group_momentum(0) ? with_momentum : shared;
    if (name == "NAdam") expected.insert("mu_product");
    if (name == "SWATS") expected.insert({"swats_lambda", "swats_switched_at", "swats_sgd_lr"});
    const State s = opt->state_dict();
    EXPECT_EQ(group_keys(s), expected);
    std::set<std::string> top;
    for (const auto& [key, value] : s.scalars)
      if (key.rfind("group.", 0) != 0) top.insert(key);
    EXPECT_EQ(top, (std::set<std::string>{"step", "num_groups"}));
  }
  auto sgd = optim::make_optimizer({Tensor::ones({3}).requires_grad(true)},
                                   optim::SGDConfig{.momentum = 0.9});
  const State s = sgd->state_dict();
  for (const char* legacy : {"mu_product", "swats_lambda", "swats_switched_at", "swats_sgd_lr"})
    EXPECT_EQ(s.scalars.count(std::string("group.0.") + legacy), 0u) << legacy;
}

// A state saved before the optimizers kept their group state to themselves holds NAdam's and
// SWATS's keys for every optimizer, in every group: it loads, those keys are ignored, and the
// run continues bit for bit. Any other key is an error.
TEST(Optimizer, LegacyGroupKeysAreAcceptedAndIgnored) {
  const fx::Fixture f = fx::read_fixture("sgd_plain");
  const std::vector<std::pair<std::string, double>> legacy = {{"mu_product", 1.0},
                                                              {"swats_lambda", 0.0},
                                                              {"swats_switched_at", 0.0},
                                                              {"swats_sgd_lr", 0.0}};
  for (const auto& config : every_config()) {
    SCOPED_TRACE(optim::optimizer_name(config));
    auto run = [&](optim::Optimizer& opt, const std::vector<Tensor>& params, int from, int to) {
      for (int t = from; t <= to; ++t) {
        fx::set_gradients(params, t);
        opt.step();
      }
    };
    auto params = fx::make_params(f.initial);
    std::vector<optim::ParamGroup> groups(2);
    for (int k = 0; k < 3; ++k)
      groups[k == 0 ? 0 : 1].params.emplace_back(std::to_string(k), params[k]);
    groups[1].lr = 0.5 * std::visit([](const auto& c) { return c.lr; }, config);
    auto opt = optim::make_optimizer(groups, config);
    run(*opt, params, 1, 20);
    State saved = opt->state_dict();
    // As the old code wrote it: the legacy keys of every group, with the values it kept for an
    // optimizer that did not use them (its own, where it did).
    for (int g = 0; g < 2; ++g)
      for (const auto& [key, value] : legacy)
        saved.scalars.try_emplace(fmt::format("group.{}.{}", g, key), value);

    auto second = fx::make_params(fx::values_of(params));
    std::vector<optim::ParamGroup> groups2(2);
    for (int k = 0; k < 3; ++k)
      groups2[k == 0 ? 0 : 1].params.emplace_back(std::to_string(k), second[k]);
    groups2[1].lr = groups[1].lr;
    auto opt2 = optim::make_optimizer(groups2, config);
    opt2->load_state_dict(saved);
    run(*opt, params, 21, 40);
    run(*opt2, second, 21, 40);
    EXPECT_TRUE(bitwise_equal(fx::values_of(second), fx::values_of(params)));
    EXPECT_EQ(opt2->state_dict().scalars, opt->state_dict().scalars);

    State junk = opt->state_dict();
    junk.scalars["group.0.nesterov"] = 1.0;
    junk.scalars["group.1.mu_products"] = 1.0;
    junk.scalars["mu_product"] = 1.0;
    try {
      opt2->load_state_dict(junk);
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("unexpected value 'group.0.nesterov'"), std::string::npos) << msg;
      EXPECT_NE(msg.find("unexpected value 'group.1.mu_products'"), std::string::npos) << msg;
      EXPECT_NE(msg.find("unexpected value 'mu_product'"), std::string::npos) << msg;
    }
  }
}

// NAdam's and SWATS's own group state is saved and restored: a run resumed from it continues
// bit for bit, SWATS's before its switch to SGD and after it.
TEST(Optimizer, NAdamAndSwatsResumeFromTheirGroupState) {
  const fx::Fixture f = fx::read_fixture("sgd_plain");
  auto run = [&](optim::Optimizer& opt, const std::vector<Tensor>& params, int from, int to) {
    for (int t = from; t <= to; ++t) {
      if (t == fx::kLrHalvingStep) opt.set_lr(opt.lr() * 0.5);
      fx::set_gradients(params, t);
      opt.step();
    }
  };
  auto resumed_at = [&](const optim::OptimizerConfig& config, int at) {
    SCOPED_TRACE("resumed after step " + std::to_string(at));
    auto whole = fx::make_params(f.initial);
    auto opt = optim::make_optimizer(whole, config);
    run(*opt, whole, 1, fx::kSteps);

    auto first = fx::make_params(f.initial);
    auto opt1 = optim::make_optimizer(first, config);
    run(*opt1, first, 1, at);
    auto second = fx::make_params(fx::values_of(first));
    auto opt2 = optim::make_optimizer(second, config);
    opt2->load_state_dict(opt1->state_dict());
    run(*opt2, second, at + 1, fx::kSteps);
    EXPECT_TRUE(bitwise_equal(fx::values_of(second), fx::values_of(whole)));
    EXPECT_EQ(opt2->state_dict().scalars, opt->state_dict().scalars);
    return opt->state_dict();
  };

  const State nadam = resumed_at(optim::NAdamConfig{.lr = 0.01}, 37);
  EXPECT_LT(nadam.scalars.at("group.0.mu_product"), 1e-3);

  // Switches at step 40 of the 120.
  const optim::SWATSConfig swats{
      .lr = 0.01, .betas = {0.9, 0.9}, .weight_decay = 0.01, .eps_switch = 1e-4};
  const State whole = resumed_at(swats, 37);
  const int switched_at = static_cast<int>(whole.scalars.at("group.0.swats_switched_at"));
  ASSERT_GT(switched_at, 10) << "the test should exercise the switch";
  ASSERT_LT(switched_at + 5, fx::kSteps);
  EXPECT_NE(whole.scalars.at("group.0.swats_sgd_lr"), 0.0);
  resumed_at(swats, switched_at - 2);  // in the Adam phase, lambda carried over
  resumed_at(swats, switched_at + 3);  // in the SGD phase
}

// A tiny linear regression with core ops and autograd: y = x w* + b*.
struct Regression {
  Tensor x, y;
  Regression() {
    Generator gen(7);
    x = Tensor::randn({64, 3}, &gen);
    const Tensor w_true = Tensor::from_vector({1.5f, -2.0f, 0.5f}, {3, 1});
    y = matmul(x, w_true) + 0.3f;
  }
  Tensor loss(const Tensor& w, const Tensor& b) const {
    return mean(pow(matmul(x, w) + b - y, 2.0f));
  }
};

TEST(Optimizer, EveryConfigRunsTheSameLoopAndReducesTheLoss) {
  // every_config() holds each alternative of the variant once.
  std::set<size_t> kinds;
  for (const auto& config : every_config()) kinds.insert(config.index());
  EXPECT_EQ(kinds.size(), std::variant_size_v<optim::OptimizerConfig>);
  const Regression data;
  for (const auto& config : every_config()) {
    SCOPED_TRACE(optim::optimizer_name(config));
    Tensor w = Tensor::zeros({3, 1}).requires_grad(true);
    Tensor b = Tensor::zeros({1}).requires_grad(true);
    auto opt = optim::make_optimizer({{"weight", w}, {"bias", b}}, config);
    const float initial = data.loss(w, b).item<float>();
    for (int step = 0; step < 200; ++step) {
      opt->zero_grad();
      data.loss(w, b).backward();
      EXPECT_TRUE(opt->step());
    }
    const float final_loss = data.loss(w, b).item<float>();
    EXPECT_LT(final_loss, 0.5f * initial) << "initial " << initial;
    EXPECT_EQ(opt->step_count(), 200);
  }
}

TEST(Optimizer, ParameterGroupsHaveTheirOwnLrAndWeightDecay) {
  Tensor w = Tensor::ones({2, 2}).requires_grad(true);
  Tensor b = Tensor::ones({2}).requires_grad(true);
  const auto groups = optim::weight_decay_groups({{"weight", w}, {"bias", b}});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].params[0].first, "weight");
  EXPECT_EQ(groups[1].params[0].first, "bias");
  std::vector<optim::ParamGroup> with_lr = groups;
  with_lr[1].lr = 0.5;
  auto opt = optim::make_optimizer(with_lr, optim::SGDConfig{.lr = 0.1, .weight_decay = 0.1});
  EXPECT_EQ(opt->num_groups(), 2);
  EXPECT_EQ(opt->group_lr(1), 0.5);
  // Zero gradients: only weight decay moves the weights; the biases are not decayed.
  opt->step();
  expect_close(w, {0.99f, 0.99f, 0.99f, 0.99f});
  expect_close(b, {1, 1});
  // Unit gradients: each group steps with its own lr.
  opt->arena()->flat_grads().fill_(1.0);
  opt->step();
  expect_close(b, {0.5f, 0.5f});
  const float w_expected = 0.99f - 0.1f * (1.0f + 0.1f * 0.99f);
  expect_close(w, {w_expected, w_expected, w_expected, w_expected});
  opt->set_group_lr(0, 0.0);
  opt->step();
  expect_close(w, {w_expected, w_expected, w_expected, w_expected});
}

TEST(Clip, ByNormScalesTheFlatBuffer) {
  Tensor w = Tensor::zeros({3}).requires_grad(true);
  Tensor b = Tensor::zeros({1}).requires_grad(true);
  auto opt = optim::make_optimizer({{"w", w}, {"b", b}}, optim::SGDConfig{});
  w.grad().copy_(Tensor::from_vector({3, 0, 0}, {3}));
  b.grad().copy_(Tensor::from_vector({4}, {1}));
  EXPECT_NEAR(optim::clip_grad_norm(*opt, 10.0), 5.0, 1e-6);  // below the limit: unchanged
  expect_close(w.grad(), {3, 0, 0});
  EXPECT_NEAR(optim::clip_grad_norm(*opt, 1.0), 5.0, 1e-6);
  expect_close(w.grad(), {0.6f, 0, 0}, 1e-5);
  expect_close(b.grad(), {0.8f}, 1e-5);
  EXPECT_NEAR(optim::global_norm(opt->arena()->flat_grads()), 1.0, 1e-5);
}

TEST(Clip, ByValueClampsAndReturnsTheNorm) {
  Tensor w = Tensor::zeros({4}).requires_grad(true);
  auto opt = optim::make_optimizer({w}, optim::SGDConfig{});
  w.grad().copy_(Tensor::from_vector({3, -4, 0.5f, 0}, {4}));
  EXPECT_NEAR(optim::clip_grad_value(*opt, 1.0), std::sqrt(25.25), 1e-6);
  expect_close(w.grad(), {1, -1, 0.5f, 0});
}

TEST(Clip, NonFiniteIsReportedAndLeftAlone) {
  Tensor w = Tensor::zeros({3}).requires_grad(true);
  auto opt = optim::make_optimizer({w}, optim::SGDConfig{});
  for (float bad : {INFINITY, -INFINITY, NAN}) {
    w.grad().copy_(Tensor::from_vector({1, bad, 2}, {3}));
    EXPECT_FALSE(std::isfinite(optim::clip_grad_norm(*opt, 1.0)));
    EXPECT_FALSE(std::isfinite(optim::clip_grad_value(*opt, 1.0)));
    EXPECT_EQ(w.grad().to_vector<float>()[0], 1.0f);
  }
  expect_error([&] { optim::clip_grad_norm(*opt, 0.0); }, "max_norm");
  // Huge but finite: the squares overflow float, not the norm.
  w.grad().copy_(Tensor::from_vector({3e20f, 4e20f, 0}, {3}));
  EXPECT_NEAR(optim::clip_grad_norm(*opt, 1.0), 5e20, 1e15);
  expect_close(w.grad(), {0.6f, 0.8f, 0}, 1e-5);
}

// The sum of squares is split over the threads in whole blocks whose sums are added in order: the
// norm is the same bit for bit on any thread count, and a non-finite value in the last block is
// still found.
TEST(Clip, NormOnOneThreadOrTwo) {
  const int threads = get_num_threads();
  for (int64_t n : {1000, 80000, 600001}) {
    SCOPED_TRACE(n);
    Tensor w = Tensor::zeros({n}).requires_grad(true);
    auto opt = optim::make_optimizer({w}, optim::SGDConfig{});
    w.grad().copy_(Tensor::randn({n}));
    double norm[2];
    for (int t : {1, 2}) {
      set_num_threads(t);
      norm[t - 1] = optim::global_norm(opt->arena()->flat_grads());
    }
    EXPECT_EQ(norm[0], norm[1]);
    w.grad().narrow(0, n - 1, 1).fill_(NAN);
    EXPECT_FALSE(opt->step());
  }
  set_num_threads(threads);
}

// SWATS's dot products (its switching test) are summed in blocks added in order: the same bits
// on one thread or two, for a model large enough to be split.
TEST(Optimizer, SwatsDotsOnOneThreadOrTwo) {
  const int threads = get_num_threads();
  const int64_t n = 100003;
  std::vector<float> params[2];
  double lambda[2];
  for (int t : {1, 2}) {
    set_num_threads(t);
    Generator gen(7);
    Tensor w = Tensor::randn({n}, &gen).requires_grad(true);
    auto opt = optim::make_optimizer({w}, optim::SWATSConfig{.lr = 0.01});
    for (int step = 0; step < 5; ++step) {
      w.grad().copy_(Tensor::randn({n}, &gen));
      ASSERT_TRUE(opt->step());
    }
    params[t - 1] = w.to_vector<float>();
    lambda[t - 1] = opt->state_dict().scalars.at("group.0.swats_lambda");
  }
  set_num_threads(threads);
  EXPECT_NE(lambda[0], 0.0);
  EXPECT_EQ(lambda[0], lambda[1]);
  EXPECT_EQ(params[0], params[1]);
}

// The update rounds as its formula in plain float arithmetic, each product and sum rounded on
// its own: the vector clones of the loop use no fused multiply-add.
TEST(Optimizer, UpdateRoundsAsTheFormula) {
  const int64_t n = 1000;
  Tensor w = Tensor::randn({n}).requires_grad(true);
  auto opt = optim::make_optimizer({w}, optim::SGDConfig{.lr = 0.1, .weight_decay = 0.01});
  w.grad().copy_(Tensor::randn({n}));
  const std::vector<float> p = w.to_vector<float>(), g = w.grad().to_vector<float>();
  ASSERT_TRUE(opt->step());
  const std::vector<float> updated = w.to_vector<float>();
  const float lr = 0.1f, wd = 0.01f;
  for (int64_t i = 0; i < n; ++i) {
    const float wp = wd * p[i], d = g[i] + wp, step = lr * d;
    ASSERT_EQ(updated[i], p[i] - step) << "at " << i;
  }
}

TEST(Optimizer, NonFiniteStepIsSkipped) {
  for (const auto& config : every_config()) {
    SCOPED_TRACE(optim::optimizer_name(config));
    Tensor w = Tensor::ones({5}).requires_grad(true);
    auto opt = optim::make_optimizer({w}, config);
    w.grad().fill_(0.5);
    EXPECT_TRUE(opt->step());
    const auto before = w.to_vector<float>();
    const State state_before = opt->state_dict();
    w.grad().copy_(Tensor::from_vector({0.5f, NAN, 0.5f, 0.5f, INFINITY}, {5}));
    EXPECT_FALSE(opt->step());
    EXPECT_EQ(w.to_vector<float>(), before);
    EXPECT_EQ(opt->step_count(), 1);
    const State state_after = opt->state_dict();
    for (const auto& [key, t] : state_before.tensors)
      EXPECT_EQ(t.to_vector<float>(), state_after.tensors.at(key).to_vector<float>()) << key;
  }
  // With skipping off, the nan goes through.
  Tensor w = Tensor::ones({2}).requires_grad(true);
  auto opt = optim::make_optimizer({w}, optim::SGDConfig{.skip_nonfinite = false});
  w.grad().copy_(Tensor::from_vector({NAN, 1}, {2}));
  EXPECT_TRUE(opt->step());
  EXPECT_TRUE(std::isnan(w.to_vector<float>()[0]));
}

TEST(Config, InvalidValuesNameTheField) {
  Tensor w = Tensor::ones({2}).requires_grad(true);
  auto make = [&](const optim::OptimizerConfig& c) { optim::make_optimizer({w}, c); };
  expect_error([&] { make(optim::SGDConfig{.lr = -1}); }, "SGDConfig: invalid lr -1");
  expect_error([&] { make(optim::SGDConfig{.nesterov = true}); }, "nesterov needs momentum");
  expect_error(
      [&] {
        make(optim::AdamConfig{.betas = {0.9, 1.0}});
      },
      "AdamConfig: invalid betas[1]");
  expect_error([&] { make(optim::AdamWConfig{.eps = 0}); }, "AdamWConfig: invalid eps");
  expect_error([&] { make(optim::RMSpropConfig{.alpha = -0.1}); }, "invalid alpha");
  expect_error([&] { make(optim::AdaptiveGainConfig{.max_gain = 0.5}); }, "max_gain");
  expect_error([&] { make(optim::AdagradConfig{.lr_decay = -1}); }, "lr_decay");
  expect_error([&] { make(optim::NAdamConfig{.momentum_decay = -1}); }, "momentum_decay");
  expect_error(
      [&] {
        make(optim::RpropConfig{.etas = {1.0, 1.2}});
      },
      "RpropConfig: invalid etas[0]");
  expect_error(
      [&] {
        make(optim::RpropConfig{.etas = {0.5, 1.0}});
      },
      "RpropConfig: invalid etas[1]");
  expect_error(
      [&] {
        make(optim::RpropConfig{.step_sizes = {0.1, 0.01}});
      },
      "RpropConfig: invalid step_sizes[1]");
  expect_error([&] { optim::make_optimizer(std::vector<Tensor>{}, optim::SGDConfig{}); },
               "no parameters");
}

TEST(Config, NamesParseBack) {
  for (const auto& config : every_config()) {
    const std::string name = optim::optimizer_name(config);
    EXPECT_EQ(optim::optimizer_name(optim::parse_optimizer(name)), name);
  }
  EXPECT_EQ(optim::optimizer_name(optim::parse_optimizer("adamw")), "AdamW");
  EXPECT_TRUE(std::holds_alternative<optim::SGDConfig>(optim::parse_optimizer("SGD")));
  expect_error([] { optim::parse_optimizer("lion"); }, "unknown optimizer 'lion' (known: sgd,");
  // PyTorch's defaults (SGD's lr has none in PyTorch; ours is 0.01).
  EXPECT_EQ(optim::SGDConfig{}.lr, 0.01);
  EXPECT_EQ(optim::AdamConfig{}.betas[1], 0.999);
  EXPECT_EQ(optim::RMSpropConfig{}.alpha, 0.99);
  EXPECT_EQ(optim::AdamWConfig{}.weight_decay, 1e-2);
}

// SWATS on the regression toy (full-batch gradients) switches to SGD: swats_phase reports the
// step and the learned rate, and the steps after it are SGD with momentum beta1 at that rate.
TEST(Optimizer, SwatsPhaseReportsTheSwitch) {
  const Regression data;
  Tensor w = Tensor::zeros({3, 1}).requires_grad(true);
  Tensor b = Tensor::zeros({1}).requires_grad(true);
  const double beta1 = 0.9, beta2 = 0.99;
  auto opt = optim::make_optimizer(
      {{"weight", w}, {"bias", b}},
      optim::SWATSConfig{.lr = 0.01, .betas = {beta1, beta2}, .eps_switch = 1e-4});
  auto step = [&] {
    opt->zero_grad();
    data.loss(w, b).backward();
    EXPECT_TRUE(opt->step());
  };
  optim::SWATSPhase before = optim::swats_phase(*opt);
  EXPECT_FALSE(before.switched);
  EXPECT_EQ(before.projected_lr, 0.0);
  int steps = 0;
  double projected = 0.0;
  while (!optim::swats_phase(*opt).switched && steps < 500) {
    projected = optim::swats_phase(*opt).projected_lr;
    step();
    ++steps;
  }
  const optim::SWATSPhase phase = optim::swats_phase(*opt);
  ASSERT_TRUE(phase.switched) << "the test should exercise the switch";
  EXPECT_GT(steps, 1);
  EXPECT_EQ(phase.switch_step, steps);
  EXPECT_EQ(phase.switch_step, opt->step_count());
  EXPECT_GT(phase.sgd_lr, 0.0);
  EXPECT_EQ(phase.projected_lr, phase.sgd_lr);
  EXPECT_NEAR(phase.sgd_lr, projected, 1e-4);  // it had settled
  // The same as the saved state.
  const State s = opt->state_dict();
  EXPECT_EQ(s.scalars.at("group.0.swats_switched_at"), phase.switch_step);
  EXPECT_EQ(s.scalars.at("group.0.swats_sgd_lr"), phase.sgd_lr);
  // The next step is SGD: the buffer starts at the gradient d, and w -= (1 - beta1) sgd_lr d.
  const std::vector<float> w_before = w.to_vector<float>();
  step();
  const std::vector<float> buf = opt->state_slot("momentum_buffer", "weight").to_vector<float>();
  const std::vector<float> w_after = w.to_vector<float>();
  for (size_t i = 0; i < w_after.size(); ++i)
    EXPECT_NEAR(w_after[i], w_before[i] - (1 - beta1) * phase.sgd_lr * buf[i], 1e-6) << i;
  EXPECT_EQ(optim::swats_phase(*opt).switch_step, phase.switch_step);
  // Resumed, it reports the same.
  Tensor w2 = Tensor::zeros({3, 1}).requires_grad(true);
  Tensor b2 = Tensor::zeros({1}).requires_grad(true);
  auto opt2 = optim::make_optimizer({{"weight", w2}, {"bias", b2}}, optim::SWATSConfig{});
  opt2->load_state_dict(opt->state_dict());
  EXPECT_EQ(optim::swats_phase(*opt2).switch_step, phase.switch_step);
  EXPECT_EQ(optim::swats_phase(*opt2).sgd_lr, phase.sgd_lr);
  expect_error([&] { optim::swats_phase(*opt, 1); }, "parameter group 1 does not exist");
  auto adam = optim::make_optimizer({Tensor::ones({1}).requires_grad(true)}, optim::AdamConfig{});
  expect_error([&] { optim::swats_phase(*adam); }, "the optimizer is Adam, not SWATS");
}

// The gains read back: same sign adds beta, a flip multiplies by (1 - beta), a zero keeps the
// gain, all clipped to [min_gain, max_gain].
TEST(Optimizer, AdaptiveGainsReadBack) {
  Tensor w = Tensor::zeros({4}).requires_grad(true);
  Tensor b = Tensor::zeros({1}).requires_grad(true);
  const double beta = 0.25;
  auto opt = optim::make_optimizer(
      {{"w", w}, {"b", b}},
      optim::AdaptiveGainConfig{.lr = 0.1, .beta = beta, .min_gain = 0.6, .max_gain = 1.4});
  auto gains_of = [&](const char* name) {
    for (const auto& [n, t] : optim::adaptive_gains(*opt))
      if (n == name) return t.to_vector<float>();
    ADD_FAILURE() << "no gains of " << name;
    return std::vector<float>{};
  };
  EXPECT_EQ(gains_of("w"), (std::vector<float>{1, 1, 1, 1}));
  auto step = [&](std::vector<float> gw, float gb) {
    w.grad().copy_(Tensor::from_vector(gw, {4}));
    b.grad().fill_(gb);
    ASSERT_TRUE(opt->step());
  };
  step({1, 1, 1, 0}, 2);  // no previous gradient: every gain stays 1
  EXPECT_EQ(gains_of("w"), (std::vector<float>{1, 1, 1, 1}));
  step({2, -1, 0, 1}, 3);
  const float up = 1.0f + float(beta), down = 1.0f * (1.0f - float(beta));
  EXPECT_EQ(gains_of("w"), (std::vector<float>{up, down, 1, 1}));
  EXPECT_EQ(gains_of("b"), (std::vector<float>{up}));
  step({2, 1, 0, 1}, 3);  // up again hits max_gain; down flips again under min_gain
  EXPECT_EQ(gains_of("w"), (std::vector<float>{1.4f, 0.6f, 1, up}));
  EXPECT_EQ(opt->state_slot("gains", "w").to_vector<float>(), gains_of("w"));
  expect_error([&] { opt->state_slot("gain", "w"); },
               "no state slot 'gain' (its slots: gains, prev_grad)");
  expect_error([&] { opt->state_slot("gains", "x"); },
               "no parameter named 'x' (its parameters: w, b)");
  auto sgd = optim::make_optimizer({Tensor::ones({1}).requires_grad(true)}, optim::SGDConfig{});
  expect_error([&] { optim::adaptive_gains(*sgd); }, "the optimizer is SGD, not AdaptiveGain");
}

// Adam without bias correction, first step: m1 = (1 - b1) g, v1 = (1 - b2) g^2 and
// w1 = w0 - lr m1 / (sqrt(v1) + eps); the corrected step is lr g / (|g| + eps), larger.
TEST(Optimizer, AdamWithoutBiasCorrectionFirstStep) {
  const std::vector<float> g = {0.5f, -2.0f, 1e-3f, 0.0f};
  const double lr = 0.1, b1 = 0.8, b2 = 0.99, eps = 1e-3;
  for (bool amsgrad : {false, true}) {
    for (bool decoupled : {false, true}) {
      SCOPED_TRACE(std::string(amsgrad ? "amsgrad " : "") + (decoupled ? "AdamW" : "Adam"));
      Tensor w = Tensor::ones({4}).requires_grad(true);
      const optim::OptimizerConfig config =
          decoupled ? optim::OptimizerConfig(optim::AdamWConfig{.lr = lr,
                                                                .betas = {b1, b2},
                                                                .eps = eps,
                                                                .weight_decay = 0.0,
                                                                .amsgrad = amsgrad,
                                                                .bias_correction = false})
                    : optim::AdamConfig{.lr = lr,
                                        .betas = {b1, b2},
                                        .eps = eps,
                                        .amsgrad = amsgrad,
                                        .bias_correction = false};
      auto opt = optim::make_optimizer({w}, config);
      w.grad().copy_(Tensor::from_vector(g, {4}));
      ASSERT_TRUE(opt->step());
      const std::vector<float> got = w.to_vector<float>();
      for (size_t i = 0; i < g.size(); ++i) {
        const double m1 = (1 - b1) * g[i], v1 = (1 - b2) * double(g[i]) * g[i];
        EXPECT_NEAR(got[i], 1.0 - lr * m1 / (std::sqrt(v1) + eps), 1e-6) << i;
      }
      EXPECT_EQ(got[3], 1.0f);
    }
  }
  // With the correction (the default) the first step is lr g / (|g| + eps).
  Tensor w = Tensor::ones({1}).requires_grad(true);
  auto opt = optim::make_optimizer({w}, optim::AdamConfig{.lr = lr, .betas = {b1, b2}, .eps = eps});
  w.grad().fill_(0.5f);
  ASSERT_TRUE(opt->step());
  EXPECT_NEAR(w.to_vector<float>()[0], 1.0 - lr * 0.5 / (0.5 + eps), 1e-6);
}

// iRprop- step by step on two weights: the step size grows while the sign holds, shrinks where it
// flips (and that weight stays put), is kept on the step after a flip, and stays in its clamps.
TEST(Optimizer, RpropStepsAsIRpropMinus) {
  Tensor w = Tensor::zeros({2}).requires_grad(true);
  auto opt = optim::make_optimizer(
      {w}, optim::RpropConfig{.lr = 0.1, .etas = {0.5, 2.0}, .step_sizes = {0.03, 0.3}});
  auto step = [&](float g0, float g1) {
    w.grad().copy_(Tensor::from_vector({g0, g1}, {2}));
    EXPECT_TRUE(opt->step());
    return std::pair(w.to_vector<float>(),
                     opt->state_dict().tensors.at("step_size.0").to_vector<float>());
  };
  // Step 1: no previous gradient, the step is the initial lr against the sign.
  auto [w1, s1] = step(1.0f, -3.0f);
  EXPECT_EQ(w1, (std::vector<float>{-0.1f, 0.1f}));
  EXPECT_EQ(s1, (std::vector<float>{0.1f, 0.1f}));
  // Step 2: both keep their sign: doubled.
  auto [w2, s2] = step(0.5f, -0.01f);
  EXPECT_EQ(s2, (std::vector<float>{0.2f, 0.2f}));
  EXPECT_EQ(w2, (std::vector<float>{-0.1f - 0.2f, 0.1f + 0.2f}));
  // Step 3: weight 0 flips: halved and not moved; weight 1 grows into the upper clamp.
  auto [w3, s3] = step(-2.0f, -1.0f);
  EXPECT_EQ(s3, (std::vector<float>{0.1f, 0.3f}));
  EXPECT_EQ(w3, (std::vector<float>{w2[0], w2[1] + 0.3f}));
  EXPECT_EQ(opt->state_dict().tensors.at("prev.0").to_vector<float>(),
            (std::vector<float>{0.0f, -1.0f}));
  // Step 4: after the flip weight 0's step size is kept and it moves; weight 1 flips.
  auto [w4, s4] = step(-1.0f, 1.0f);
  EXPECT_EQ(s4, (std::vector<float>{0.1f, 0.15f}));
  EXPECT_EQ(w4, (std::vector<float>{w3[0] + 0.1f, w3[1]}));
  // Step 5: weight 0 flips again; weight 1 (after its flip) keeps 0.15, and its zero gradient
  // moves nothing.
  auto [w5, s5] = step(1.0f, 0.0f);
  EXPECT_EQ(s5, (std::vector<float>{0.05f, 0.15f}));
  EXPECT_EQ(w5, w4);
  // Step 6: weight 0 moves by its kept step; step 7: it flips into the lower clamp.
  auto [w6, s6] = step(1.0f, 0.0f);
  EXPECT_EQ(s6, (std::vector<float>{0.05f, 0.15f}));
  EXPECT_EQ(w6, (std::vector<float>{w5[0] - 0.05f, w5[1]}));
  auto [w7, s7] = step(-1.0f, 0.0f);
  EXPECT_EQ(s7, (std::vector<float>{0.03f, 0.15f}));
  EXPECT_EQ(w7, w6);
}

TEST(Optimizer, MomentumCanBeCycled) {
  Tensor w = Tensor::ones({2}).requires_grad(true);
  auto adam = optim::make_optimizer({w}, optim::AdamConfig{});
  EXPECT_EQ(adam->group_momentum(0), 0.9);
  adam->set_group_momentum(0, 0.85);
  EXPECT_EQ(adam->group_momentum(0), 0.85);
  auto adagrad = optim::make_optimizer({w}, optim::AdagradConfig{});
  EXPECT_FALSE(adagrad->group_momentum(0).has_value());
  expect_error([&] { adagrad->set_group_momentum(0, 0.9); }, "no momentum");
  auto sgd = optim::make_optimizer({w}, optim::SGDConfig{});
  expect_error([&] { sgd->set_group_momentum(0, 0.9); }, "keeps no momentum buffer");
  auto sgd_momentum = optim::make_optimizer({w}, optim::SGDConfig{.momentum = 0.9});
  sgd_momentum->set_group_momentum(0, 0.8);
  EXPECT_EQ(sgd_momentum->group_momentum(0), 0.8);
}

}  // namespace
