// Shared pieces of the optimizer tests: the fixtures written by tools/gen_optim_fixtures.py, the
// gradient formula both sides evaluate, and the training loop that replays them.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "nabla/nabla.h"

namespace nabla::testing::optim_fixtures {

inline const std::vector<Shape> kShapes = {Shape({4, 5}), Shape({13}), Shape({3, 3, 3})};
constexpr int kSteps = 120;
constexpr int kLrHalvingStep = 60;  // the lr is halved before this step

// Same formula as gradient() in tools/gen_optim_fixtures.py (glibc sin/cos in double).
inline double gradient(int t, int k, int64_t i) {
  return (1.0 + 0.5 * k) * std::sin(0.37 * double(i + 1) * (k + 1) + 0.91 * t) +
         0.3 * std::cos(0.13 * t * double(i + 2));
}

using Values = std::vector<std::vector<float>>;  // one vector per tensor

struct Fixture {
  Values initial;
  std::map<int, Values> checkpoints;  // step -> values after it
};

inline Fixture read_fixture(const std::string& name) {
  const std::string path = std::string(NABLA_TEST_FIXTURES) + "/optim/" + name + ".txt";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path << " (run tools/gen_optim_fixtures.py)";
  Fixture f;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    int step = 0, k = 0;
    int64_t n = 0;
    if (kind == "param")
      ls >> k >> n;
    else if (kind == "step")
      ls >> step >> k >> n;
    else
      continue;
    std::vector<float> v(n);
    for (auto& x : v) ls >> x;
    Values& target = kind == "param" ? f.initial : f.checkpoints[step];
    if (int(target.size()) <= k) target.resize(k + 1);
    target[k] = std::move(v);
  }
  return f;
}

inline std::vector<Tensor> make_params(const Values& initial) {
  std::vector<Tensor> params;
  for (size_t k = 0; k < initial.size(); ++k)
    params.push_back(Tensor::from_vector(initial[k], kShapes[k]).requires_grad(true));
  return params;
}

// Writes step t's gradients into the parameters' .grad (in the arena when there is one).
inline void set_gradients(const std::vector<Tensor>& params, int t) {
  for (size_t k = 0; k < params.size(); ++k) {
    std::vector<float> g(params[k].numel());
    for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<float>(gradient(t, int(k), i));
    params[k].grad().copy_(Tensor::from_vector(g, params[k].shape()));
  }
}

inline Values values_of(const std::vector<Tensor>& params) {
  Values v;
  for (const Tensor& p : params) v.push_back(p.contiguous().to_vector<float>());
  return v;
}

// Relative error with a denominator guard: |a - e| / max(|e|, kGuard). The parameters are O(1)
// (standard normal at the start); a parameter passing near zero carries the absolute rounding
// error of its O(1) history (a few 1e-7 after 120 float32 steps), so below 0.1 the error is
// measured against 0.1 rather than against a vanishing value. (Seen: max 3.6e-6 over all cases.)
constexpr double kGuard = 0.1;
inline double max_rel_error(const Values& actual, const Values& expected) {
  double worst = 0.0;
  for (size_t k = 0; k < expected.size(); ++k)
    for (size_t i = 0; i < expected[k].size(); ++i) {
      const double e = expected[k][i], a = actual[k][i];
      const double err = std::fabs(a - e) / std::max(std::fabs(e), kGuard);
      worst = std::isnan(err) ? INFINITY : std::max(worst, err);
    }
  return worst;
}

}  // namespace nabla::testing::optim_fixtures
