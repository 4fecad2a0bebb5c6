// Reads the PyTorch reference fixtures of tests/fixtures/nn/ (written by
// tools/gen_nn_fixtures.py) and compares an op's output and gradients against one.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include "support/gradcheck.h"

namespace nabla::testing {

using Fixture = std::map<std::string, Tensor>;

// A case file: lines "<name> <float32|int64> <ndim> <dims...>" each followed by a line of values.
inline Fixture load_fixture(const std::string& name) {
  const std::string path = std::string(NABLA_TEST_FIXTURES) + "/nn/" + name + ".txt";
  std::ifstream in(path);
  NABLA_CHECK(in.good(), "fixture {} not found; run tools/gen_nn_fixtures.py", path);
  Fixture fixture;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream header(line);
    std::string key, kind;
    int64_t ndim = 0;
    header >> key >> kind >> ndim;
    std::vector<int64_t> dims(static_cast<size_t>(ndim));
    for (auto& d : dims) header >> d;
    const Shape shape(dims);
    std::getline(in, line);
    std::istringstream values(line);
    if (kind == "int64") {
      std::vector<int64_t> v(static_cast<size_t>(shape.numel()));
      for (auto& x : v) values >> x;
      fixture[key] = Tensor::from_vector(v, shape);
    } else {
      std::vector<float> v(static_cast<size_t>(shape.numel()));
      for (auto& x : v) values >> x;
      fixture[key] = Tensor::from_vector(v, shape);
    }
  }
  return fixture;
}

inline void expect_tensor_close(const Tensor& actual, const Tensor& expected,
                                const std::string& what, double rtol, double atol) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(actual.defined());
  EXPECT_EQ(actual.shape(), expected.shape());
  expect_close(actual, expected.to_vector<float>(), rtol, atol);
}

// Runs fn on the fixture's tensors, with the inputs that have a reference gradient d<name> made
// leaves that require one; compares y, then back-propagates gy and compares every d<name>.
// float32 tolerances: the references are float32 computations too, in another order.
inline void expect_matches_fixture(const std::string& name,
                                   const std::function<Tensor(Fixture&)>& fn, double rtol = 1e-4,
                                   double atol = 1e-5) {
  SCOPED_TRACE("fixture " + name);
  Fixture f = load_fixture(name);
  std::vector<std::string> inputs;
  for (auto& [key, t] : f) {
    if (f.count("d" + key) == 0) continue;
    t.requires_grad(true);
    inputs.push_back(key);
  }
  const Tensor y = fn(f);
  expect_tensor_close(y, f.at("y"), "y", rtol, atol);
  if (inputs.empty()) return;
  y.backward(f.at("gy"));
  for (const std::string& key : inputs)
    expect_tensor_close(f.at(key).grad(), f.at("d" + key), "d" + key, rtol, atol);
}

}  // namespace nabla::testing
