// User mistakes throw nabla::Error with a message that names the op and what was expected and
// found. Each row: the call, then the fragments its message must contain.
#include <gtest/gtest.h>

#include <functional>

#include "support/gradcheck.h"

using namespace nabla;

namespace {

struct ErrorCase {
  const char* name;
  std::function<void()> call;
  std::vector<std::string> fragments;
};

void expect_errors(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      c.call();
      ADD_FAILURE() << "no nabla::Error thrown";
    } catch (const Error& e) {
      const std::string message = e.what();
      for (const std::string& f : c.fragments)
        EXPECT_NE(message.find(f), std::string::npos) << "'" << f << "' missing in: " << message;
    }
  }
}

Tensor f32(const Shape& shape) {
  return Tensor::zeros(shape);
}
Tensor i64(const Shape& shape) {
  return Tensor::zeros(shape, {.dtype = DType::Int64});
}

}  // namespace

TEST(Errors, BroadcastingNamesTheOpAndBothShapes) {
  const Tensor a = f32({2, 3}), b = f32({4});
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&, const Tensor&)>>>
      ops = {
          {"add", [](const Tensor& x, const Tensor& y) { return add(x, y); }},
          {"sub", [](const Tensor& x, const Tensor& y) { return x - y; }},
          {"mul", [](const Tensor& x, const Tensor& y) { return mul(x, y); }},
          {"div", [](const Tensor& x, const Tensor& y) { return x / y; }},
          {"pow", [](const Tensor& x, const Tensor& y) { return pow(x, y); }},
          {"maximum", [](const Tensor& x, const Tensor& y) { return maximum(x, y); }},
          {"minimum", [](const Tensor& x, const Tensor& y) { return minimum(x, y); }},
          {"eq", [](const Tensor& x, const Tensor& y) { return eq(x, y); }},
          {"ge", [](const Tensor& x, const Tensor& y) { return ge(x, y); }},
          {"where", [](const Tensor& x, const Tensor& y) { return where(x, x, y); }},
      };
  std::vector<ErrorCase> cases;
  for (const auto& [name, op] : ops)
    cases.push_back({name, [&, op] { op(a, b); }, {std::string(name) + ":", "[2, 3]", "[4]"}});
  cases.push_back({"expand", [&] { b.expand({2, 3}); }, {"expand", "[4]", "[2, 3]"}});
  cases.push_back({"sum_to", [&] { sum_to(a, {2, 3, 1}); }, {"sum_to", "[2, 3]", "[2, 3, 1]"}});
  cases.push_back({"sum_to size", [&] { sum_to(a, {4}); }, {"sum_to", "[2, 3]", "[4]"}});
  cases.push_back({"sum_to inner", [&] { sum_to(a, {2, 2}); }, {"sum_to", "[2, 3]", "[2, 2]"}});
  expect_errors(cases);
}

TEST(Errors, MatmulAndLinearShapes) {
  expect_errors({
      {"matmul 2-D",
       [] {
         matmul(f32({2, 3}), f32({4, 5}));
       },
       {"matmul", "[2, 3]", "[4, 5]"}},
      {"matmul vectors", [] { matmul(f32({3}), f32({4})); }, {"matmul", "[3]", "[4]"}},
      {"matmul vector-matrix",
       [] {
         matmul(f32({3}), f32({4, 2}));
       },
       {"matmul", "[3]", "[4, 2]"}},
      {"matmul batch",
       [] {
         matmul(f32({2, 3, 4}), f32({3, 4, 5}));
       },
       {"matmul", "[2, 3, 4]", "[3, 4, 5]"}},
      {"matmul 0-d", [] { matmul(f32({}), f32({3})); }, {"matmul", "0-d"}},
      {"linear weight",
       [] {
         linear(f32({2, 3}), f32({4, 5}));
       },
       {"linear", "[2, 3]", "[4, 5]", "last dim 5"}},
      {"linear 1-D weight",
       [] {
         linear(f32({2, 3}), f32({3}));
       },
       {"linear", "weight", "[3]"}},
      {"linear bias",
       [] {
         linear(f32({2, 3}), f32({4, 3}), f32({3}));
       },
       {"linear", "bias", "[3]", "[4, 3]"}},
  });
}

TEST(Errors, IndicesAndDimensions) {
  const Tensor x = f32({2, 3});
  const Tensor bad_index = Tensor::from_vector(std::vector<int64_t>{0, 3}, {2, 1});
  const Tensor negative_index = Tensor::from_vector(std::vector<int64_t>{-1, 0}, {2, 1});
  expect_errors({
      {"gather out of range", [&] { gather(x, 1, bad_index); }, {"gather", "index 3", "size 3"}},
      {"gather negative", [&] { gather(x, 1, negative_index); }, {"gather", "index -1"}},
      {"gather float index",
       [&] {
         gather(x, 1, f32({2, 1}));
       },
       {"gather", "int64", "float32"}},
      {"gather index rank", [&] { gather(x, 1, i64({2})); }, {"gather", "[2]", "[2, 3]"}},
      {"dim out of range", [&] { x.sum({2}); }, {"dimension 2", "[2, 3]"}},
      {"dim listed twice",
       [&] {
         x.sum({1, -1});
       },
       {"listed twice"}},
      {"softmax dim", [&] { softmax(x, -3); }, {"dimension -3", "[2, 3]"}},
      {"argmax dim", [&] { argmax(x, 5); }, {"dimension 5"}},
      {"narrow", [&] { x.narrow(1, 2, 2); }, {"narrow", "[2, 4)", "size 3"}},
      {"select", [&] { x.select(0, 2); }, {"select", "index 2", "size 2"}},
      {"unsqueeze", [&] { x.unsqueeze(4); }, {"unsqueeze", "4", "[2, 3]"}},
      {"slice step", [&] { x.slice(1, 0, 3, 0); }, {"slice", "step"}},
      {"t of 3-D",
       [] {
         f32({1, 2, 3}).t();
       },
       {"t:", "[1, 2, 3]"}},
      {"cat shapes",
       [&] {
         cat({x, f32({3, 3})}, 1);
       },
       {"cat", "[3, 3]", "[2, 3]"}},
      {"cat empty", [] { cat({}, 0); }, {"cat", "at least one"}},
      {"clamp bounds", [&] { clamp(x, 1, 0); }, {"clamp", "min 1", "max 0"}},
  });
}

TEST(Errors, DTypes) {
  const Tensor i = i64({2, 3}), x = f32({2, 3});
  const std::string expected = "expected a float32 tensor, got int64 of shape [2, 3]";
  expect_errors({
      {"exp", [&] { exp(i); }, {"exp:", expected}},
      {"relu", [&] { i.relu(); }, {"relu:", expected}},
      {"add", [&] { add(x, i); }, {"add:", expected}},
      {"mul scalar", [&] { i * 2.0f; }, {"mul:", expected}},
      {"sum", [&] { i.sum(); }, {"sum:", expected}},
      {"amax", [&] { i.max(); }, {"amax:", expected}},
      {"softmax", [&] { i.softmax(1); }, {"softmax:", expected}},
      {"matmul", [&] { matmul(i, x.t()); }, {"matmul:", expected}},
      {"linear", [&] { linear(i, x); }, {"linear:", expected}},
      {"gather",
       [&] {
         gather(i, 1, i64({2, 1}));
       },
       {"gather:", expected}},
      {"where", [&] { where(x, i, x); }, {"where:", expected}},
      {"data<T>", [&] { i.data<float>(); }, {"holds int64", "float32"}},
      {"item<T>", [] { i64({1}).item<float>(); }, {"holds int64"}},
      {"rand int64", [] { Tensor::rand({2}, nullptr, {.dtype = DType::Int64}); }, {"only float32"}},
  });
}

TEST(Errors, ShapesAndCreation) {
  const Tensor x = f32({2, 3});
  expect_errors({
      {"reshape impossible",
       [&] {
         x.reshape({4, 2});
       },
       {"reshape", "[2, 3]", "[4, 2]"}},
      {"reshape -1",
       [&] {
         x.reshape({4, -1});
       },
       {"reshape", "[2, 3]", "[4, -1]"}},
      {"reshape two -1",
       [&] {
         x.reshape({-1, -1});
       },
       {"only one dimension can be -1"}},
      {"view non-contiguous", [&] { x.t().view({6}); }, {"view", "not contiguous"}},
      {"permute duplicate",
       [&] {
         x.permute({1, 1});
       },
       {"permute", "appears twice"}},
      {"permute count", [&] { x.permute({0}); }, {"permute", "1 dims", "[2, 3]"}},
      {"flatten order",
       [&] {
         f32({2, 3, 4}).flatten(2, 1);
       },
       {"flatten", "start_dim 2"}},
      {"from_vector",
       [] {
         Tensor::from_vector({1, 2, 3}, {2, 2});
       },
       {"from_vector", "3 values", "[2, 2]", "4 elements"}},
      {"from_vector int64",
       [] { Tensor::from_vector(std::vector<int64_t>{1}, {2}); },
       {"from_vector", "1 values", "[2]"}},
      {"item", [&] { x.item<float>(); }, {"item", "[2, 3]", "6 elements"}},
      {"negative shape",
       [] {
         Tensor::zeros({2, -1});
       },
       {"negative dimension", "[2, -1]"}},
      {"undefined", [] { Tensor().shape(); }, {"undefined Tensor"}},
      {"set_grad shape", [&] { x.set_grad(f32({3})); }, {"set_grad", "[3]", "[2, 3]"}},
  });
}

TEST(Errors, DifferentDevices) {
  if (!cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  const Tensor a = f32({2}), b = Tensor::zeros({2}, {.device = Device::cuda()});
  expect_errors({
      {"add", [&] { add(a, b); }, {"add", "different devices", "cpu", "cuda"}},
      {"matmul", [&] { matmul(a, b); }, {"matmul", "different devices"}},
      {"linear",
       [&] {
         linear(a.reshape({1, 2}), b.reshape({1, 2}));
       },
       {"linear", "different devices"}},
  });
}

// Products of sizes that do not fit 64 bits (or any memory) are errors with the real size, not
// a wrapped count that allocates a small block and writes past it.
TEST(Errors, SizesThatOverflow) {
  constexpr int64_t k2to61 = int64_t{1} << 61, k2to62 = int64_t{1} << 62;
  expect_errors({
      {"numel past 2^63",
       [] {
         Shape({k2to62, 4}).numel();
       },
       {"[4611686018427387904, 4]", "1.845e+19 elements"}},
      {"a batch of 2^61 images",
       [] {
         Tensor::empty({k2to61, 1, 28, 28});
       },
       {"[2305843009213693952, 1, 28, 28]", "1.808e+21 elements"}},
      {"bytes past the largest allocation",
       [] { Tensor::empty({k2to61}); },
       {"[2305843009213693952] of float32", "9.223e+18 bytes", "4 bytes"}},
      {"int64 bytes past 2^64",
       [] { Tensor::empty({k2to61 + 1}, {.dtype = DType::Int64}); },
       {"1.845e+19 bytes"}},
      {"a layer 2^62 wide", [] { nn::Linear(784, k2to62); }, {"[4611686018427387904, 784]"}},
      {"strides of an overflowing view",
       [] {
         Tensor::empty({2, 3}).reshape({k2to62, 4});
       },
       {"more than 2^63"}},
  });
}
