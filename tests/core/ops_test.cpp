// Values and gradient checks of every differentiable op in nabla/ops.h and every Tensor view.
// Values are hand-computed or come from an independent path (GEMM against multiply-and-sum);
// gradients are checked against central differences (support/gradcheck.h) on inputs kept away
// from kinks and ties.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <numeric>

#include "support/gradcheck.h"

using namespace nabla;
using nabla::testing::expect_close;
using nabla::testing::expect_error;
using nabla::testing::expect_gradients_match;
using nabla::testing::uniform;

namespace {

using Inputs = const std::vector<Tensor>&;

Tensor vec(std::vector<float> v, const Shape& shape) {
  return Tensor::from_vector(v, shape);
}

// Distinct values 0.1 apart in scrambled order, none closer than 0.05 to zero: no ties for
// max/argmax and no kinks of relu/abs/clamp within a finite-difference step.
Tensor spread(const Shape& shape) {
  const int64_t n = shape.numel();
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = 0.1f * static_cast<float>((i * 7919) % n - n / 2) + 0.05f;
  return vec(v, shape);
}

// The broadcast pairs every binary op is checked on.
const std::vector<std::pair<Shape, Shape>> kBroadcastPairs = {
    {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 1}, {1, 3}}, {{2, 3}, {}}, {{3}, {2, 3}}};

}  // namespace

// ---------------------------------------------------------------- binary

TEST(Binary, Values) {
  const Tensor a = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor row = vec({10, 20, 30}, {3});
  const Tensor col = vec({1, 2}, {2, 1});
  expect_close(add(a, row), {11, 22, 33, 14, 25, 36});
  expect_close(a + Tensor::scalar(1), {2, 3, 4, 5, 6, 7});
  expect_close(sub(col, row.reshape({1, 3})), {-9, -19, -29, -8, -18, -28});
  expect_close(mul(col, row.reshape({1, 3})), {10, 20, 30, 20, 40, 60});
  expect_close(div(a, Tensor::scalar(2)), {0.5f, 1, 1.5f, 2, 2.5f, 3});
  expect_close(div(row, a), {10, 10, 10, 2.5f, 4, 5});
  expect_close(pow(a, vec({2, 0.5f, -1}, {3})),
               {1, std::sqrt(2.0f), 1.0f / 3, 16, std::sqrt(5.0f), 1.0f / 6});
  expect_close(maximum(a, Tensor::scalar(3.5f)), {3.5f, 3.5f, 3.5f, 4, 5, 6});
  expect_close(minimum(col, vec({0, 1.5f, 3}, {3})), {0, 1, 1, 0, 1.5f, 2});
  EXPECT_EQ(add(col, row).shape(), Shape({2, 3}));
}

TEST(Binary, GradientsWithBroadcasting) {
  const std::vector<std::pair<const char*, std::function<Tensor(Inputs)>>> ops = {
      {"add", [](Inputs x) { return add(x[0], x[1]); }},
      {"sub", [](Inputs x) { return sub(x[0], x[1]); }},
      {"mul", [](Inputs x) { return mul(x[0], x[1]); }},
      {"div", [](Inputs x) { return div(x[0], x[1]); }},
      {"pow", [](Inputs x) { return pow(x[0], x[1]); }},
      {"operators", [](Inputs x) { return (x[0] + x[1]) * x[0] - x[1] / x[0]; }},
  };
  for (const auto& [name, f] : ops) {
    for (const auto& [sa, sb] : kBroadcastPairs) {
      SCOPED_TRACE(std::string(name) + " " + sa.str() + " " + sb.str());
      // Positive and away from zero: div and pow (log a) are smooth there.
      expect_gradients_match(f, {uniform(sa, 0.5f, 2.0f, 1), uniform(sb, 0.5f, 2.0f, 2)});
    }
  }
}

TEST(Binary, MaximumMinimumGradients) {
  for (const auto& [sa, sb] : kBroadcastPairs) {
    SCOPED_TRACE(sa.str() + " " + sb.str());
    // spread() values are 0.05 off a multiple of 0.1; shifting by 0.02 keeps every pair apart.
    const Tensor a = spread(sa), b = spread(sb) + 0.02f;
    expect_gradients_match([](Inputs x) { return maximum(x[0], x[1]); }, {a, b});
    expect_gradients_match([](Inputs x) { return minimum(x[0], x[1]); }, {a, b});
  }
}

TEST(Binary, MaximumSplitsTiedGradient) {
  Tensor a = vec({1, 2, 3}, {3}).requires_grad(true);
  Tensor b = vec({0, 2, 4}, {3}).requires_grad(true);
  maximum(a, b).sum().backward();
  expect_close(a.grad(), {1, 0.5f, 0});
  expect_close(b.grad(), {0, 0.5f, 1});
}

TEST(Binary, Where) {
  const Tensor cond = Tensor::from_vector(std::vector<int64_t>{1, 0, 1}, {3});
  const Tensor a = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  expect_close(where(cond, a, Tensor::scalar(-1)), {1, -1, 3, 4, -1, 6});
  expect_close(where(vec({0, 1}, {2, 1}), a, Tensor::scalar(-1)), {-1, -1, -1, 4, 5, 6});
  // cond is int64 and gets no gradient; a and b broadcast against it.
  expect_gradients_match([&](Inputs x) { return where(x[0], x[1], x[2]); },
                         {cond, uniform({2, 3}, -1, 1), uniform({1}, -1, 1)});
  expect_gradients_match([&](Inputs x) { return where(x[0], x[1], x[2]); },
                         {vec({1, 0}, {2, 1}), uniform({3}, -1, 1), uniform({2, 3}, -1, 1)},
                         {.skip = {true}});
}

TEST(Binary, Comparisons) {
  const Tensor a = vec({1, 2, 3}, {3});
  const Tensor b = vec({2, 2, 2}, {3});
  expect_close(eq(a, b), {0, 1, 0});
  expect_close(ne(a, b), {1, 0, 1});
  expect_close(lt(a, b), {1, 0, 0});
  expect_close(le(a, b), {1, 1, 0});
  expect_close(gt(a, b), {0, 0, 1});
  expect_close(ge(a, b), {0, 1, 1});
  // int64 operands are converted; broadcasting applies.
  const Tensor i = Tensor::from_vector(std::vector<int64_t>{2}, {1});
  expect_close(eq(a, i), {0, 1, 0});
  expect_close(lt(vec({1, 3}, {2, 1}), a), {0, 1, 1, 0, 0, 0});
  Tensor x = a.detach().requires_grad(true);
  EXPECT_FALSE(gt(x, b).requires_grad());
}

// ---------------------------------------------------------------- scalars and unary

TEST(Scalar, ValuesAndGradients) {
  const Tensor a = vec({1, 2, 4}, {3});
  expect_close(add(a, 2), {3, 4, 6});
  expect_close(mul(a, 3), {3, 6, 12});
  expect_close(rsub(a, 1), {0, -1, -3});
  expect_close(rdiv(a, 2), {2, 1, 0.5f});
  expect_close(pow(a, 2.0f), {1, 4, 16});
  expect_close(a.pow(-0.5f), {1, 1 / std::sqrt(2.0f), 0.5f});
  expect_close(clamp(a, 1.5f, 3), {1.5f, 2, 3});
  expect_close(1.0f + a - 0.5f, {1.5f, 2.5f, 4.5f});
  expect_close(2.0f * a / 4.0f, {0.5f, 1, 2});
  expect_close(8.0f / a, {8, 4, 2});
  expect_close(1.0f - a, {0, -1, -3});
  const std::vector<std::pair<const char*, std::function<Tensor(Inputs)>>> ops = {
      {"add", [](Inputs x) { return add(x[0], 2.5f); }},
      {"mul", [](Inputs x) { return mul(x[0], -1.5f); }},
      {"rsub", [](Inputs x) { return rsub(x[0], 2); }},
      {"rdiv", [](Inputs x) { return rdiv(x[0], 3); }},
      {"pow 3", [](Inputs x) { return pow(x[0], 3.0f); }},
      {"pow -1.5", [](Inputs x) { return pow(x[0], -1.5f); }},
      {"operators", [](Inputs x) { return 2.0f - x[0] * 3.0f + 1.0f / x[0] - x[0] / 2.0f; }},
  };
  for (const auto& [name, f] : ops) {
    SCOPED_TRACE(name);
    expect_gradients_match(f, {uniform({2, 3}, 0.5f, 2.0f)});
  }
}

TEST(Scalar, PowZeroExponentHasZeroGradientAtZero) {
  // d(x^0)/dx = 0 everywhere, also at x = 0 where p x^(p-1) would be 0 * inf.
  Tensor x = vec({0, 2}, {2}).requires_grad(true);
  x.pow(0.0f).sum().backward();
  expect_close(x.grad(), {0, 0});
  Tensor y = vec({0, 2}, {2}).requires_grad(true);
  pow(y, vec({0, 2}, {2})).sum().backward();
  expect_close(y.grad(), {0, 4});
}

TEST(Scalar, ClampGradientIsZeroOutside) {
  // spread({2,3}) is {-0.25, 0.25, 0.15, 0.05, -0.05, -0.15}; the bounds sit between values.
  const Tensor x = spread({2, 3});
  expect_close(clamp(x, -0.1f, 0.2f), {-0.1f, 0.2f, 0.15f, 0.05f, -0.05f, -0.1f});
  expect_gradients_match([](Inputs v) { return clamp(v[0], -0.1f, 0.2f); }, {x});
  expect_gradients_match([](Inputs v) { return v[0].clamp(-1, 1); }, {x});
}

namespace {
struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> f;
  std::vector<float> x, expected;
  float lo, hi;  // gradient-check input range, clear of the op's kink or domain edge
};
}  // namespace

TEST(Unary, ValuesAndGradients) {
  const float e = std::exp(1.0f);
  const std::vector<UnaryCase> cases = {
      {"neg", [](const Tensor& x) { return neg(x); }, {1, -2}, {-1, 2}, -2, 2},
      {"operator-", [](const Tensor& x) { return -x; }, {1, -2}, {-1, 2}, -2, 2},
      {"exp", [](const Tensor& x) { return x.exp(); }, {0, 1, -1}, {1, e, 1 / e}, -2, 2},
      {"log", [](const Tensor& x) { return x.log(); }, {1, e, 1 / e}, {0, 1, -1}, 0.5f, 3},
      {"sqrt", [](const Tensor& x) { return x.sqrt(); }, {4, 0.25f, 0}, {2, 0.5f, 0}, 0.5f, 3},
      {"abs", [](const Tensor& x) { return x.abs(); }, {-2, 3, 0}, {2, 3, 0}, 0, 0},
      {"relu", [](const Tensor& x) { return x.relu(); }, {-1, 2, 0}, {0, 2, 0}, 0, 0},
      {"leaky_relu",
       [](const Tensor& x) { return leaky_relu(x, 0.1f); },
       {-2, 3},
       {-0.2f, 3},
       0,
       0},
      {"leaky_relu default", [](const Tensor& x) { return leaky_relu(x); }, {-1}, {-0.01f}, 0, 0},
      {"sigmoid",
       [](const Tensor& x) { return x.sigmoid(); },
       {0, 2, -100, 100},
       {0.5f, 0.88079708f, 0, 1},
       -4,
       4},
      {"tanh",
       [](const Tensor& x) { return x.tanh(); },
       {0, 1, -1},
       {0, 0.76159416f, -0.76159416f},
       -3,
       3},
      {"gelu",
       [](const Tensor& x) { return gelu(x); },
       {0, 1, -1, 2},
       {0, 0.84134475f, -0.15865525f, 1.95449974f},
       -3,
       3},
  };
  for (const UnaryCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Tensor y = c.f(vec(c.x, {static_cast<int64_t>(c.x.size())}));
    expect_close(y, c.expected, 1e-6, 1e-7);
    // lo == hi: the op has a kink at 0, so check on spread(), which stays 0.05 away from it.
    const Tensor x = c.lo == c.hi ? spread({3, 4}) : uniform({3, 4}, c.lo, c.hi);
    expect_gradients_match([&](Inputs v) { return c.f(v[0]); }, {x});
    // Non-contiguous input.
    expect_gradients_match([&](Inputs v) { return c.f(v[0].t()); }, {x});
  }
}

// ---------------------------------------------------------------- reductions

TEST(Reduce, Values) {
  const Tensor x = Tensor::arange(24).reshape({2, 3, 4});  // x[i][j][k] = 12i + 4j + k
  EXPECT_FLOAT_EQ(x.sum().item<float>(), 276);
  EXPECT_EQ(x.sum().shape(), Shape({}));
  EXPECT_FLOAT_EQ(x.mean().item<float>(), 11.5f);
  EXPECT_FLOAT_EQ(x.max().item<float>(), 23);
  expect_close(x.sum({1}), {12, 15, 18, 21, 48, 51, 54, 57});
  expect_close(x.sum({-1}), {6, 22, 38, 54, 70, 86});
  expect_close(x.sum({0, 2}), {60, 92, 124});
  EXPECT_EQ(x.sum({0, 2}).shape(), Shape({3}));
  EXPECT_EQ(x.sum({0, 2}, true).shape(), Shape({1, 3, 1}));
  EXPECT_EQ(sum(x, {}, true).shape(), Shape({1, 1, 1}));
  expect_close(x.mean({0, 2}, true), {7.5f, 11.5f, 15.5f});
  expect_close(x.mean({1}), {4, 5, 6, 7, 16, 17, 18, 19});
  expect_close(x.max(1), {8, 9, 10, 11, 20, 21, 22, 23});
  expect_close(amax(x, {0, 2}), {15, 19, 23});
  EXPECT_EQ(amax(x, {-1}, true).shape(), Shape({2, 3, 1}));
  // Non-contiguous input.
  expect_close(x.transpose(0, 2).sum({0}), {6, 54, 22, 70, 38, 86});
}

TEST(Reduce, Gradients) {
  const std::vector<std::vector<int64_t>> dim_sets = {{}, {1}, {-1}, {0, 2}, {0, 1, 2}};
  for (const auto& dims : dim_sets) {
    for (bool keepdim : {false, true}) {
      SCOPED_TRACE(::testing::Message()
                   << "dims size " << dims.size() << " keepdim " << keepdim
                   << (dims.empty() ? "" : " first " + std::to_string(dims[0])));
      const Tensor x = spread({2, 3, 4});
      expect_gradients_match([&](Inputs v) { return sum(v[0], dims, keepdim); }, {x});
      expect_gradients_match([&](Inputs v) { return mean(v[0], dims, keepdim); }, {x});
      expect_gradients_match([&](Inputs v) { return amax(v[0], dims, keepdim); }, {x});
    }
  }
}

TEST(Reduce, AmaxSharesTiedGradient) {
  Tensor x = vec({1, 3, 3, 2}, {2, 2}).requires_grad(true);
  x.max().backward();
  expect_close(x.grad(), {0, 0.5f, 0.5f, 0});
}

TEST(Reduce, Argmax) {
  const Tensor x = vec({1, 3, 3, 5, 2, 5}, {2, 3});
  const Tensor a1 = argmax(x, 1);
  EXPECT_EQ(a1.dtype(), DType::Int64);
  EXPECT_EQ(a1.to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));  // first maximum
  EXPECT_EQ(x.argmax(0).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(x.argmax(-1, true).shape(), Shape({2, 1}));
  EXPECT_EQ(x.t().argmax(1).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 1}));
}

TEST(Reduce, SumTo) {
  const Tensor x = Tensor::arange(6).reshape({2, 3});
  expect_close(sum_to(x, {3}), {3, 5, 7});
  expect_close(sum_to(x, {2, 1}), {3, 12});
  expect_close(sum_to(x, {1, 1}), {15});
  expect_close(sum_to(x, {}), {15});
  EXPECT_EQ(sum_to(x, {2, 1}).shape(), Shape({2, 1}));
  for (const Shape& target : {Shape{3}, Shape{2, 1}, Shape{}, Shape{1, 3}}) {
    SCOPED_TRACE(target.str());
    expect_gradients_match([&](Inputs v) { return sum_to(v[0], target); }, {spread({2, 3})});
  }
  expect_gradients_match([](Inputs v) { return sum_to(v[0], {3, 1}); }, {spread({2, 3, 4})});
}

// ---------------------------------------------------------------- along a dimension

TEST(Softmax, Values) {
  const Tensor x = vec({1, 2, 3}, {3});
  expect_close(softmax(x, 0), {0.09003057f, 0.24472847f, 0.66524096f});
  expect_close(x.log_softmax(-1), {-2.40760596f, -1.40760596f, -0.40760596f});
  // Over dim 0 of a (2, 3): each column is a pair, softmax = sigmoid of the difference.
  const Tensor y = vec({1, 2, 3, 2, 4, 6}, {2, 3});
  expect_close(y.softmax(0),
               {0.26894142f, 0.11920292f, 0.04742587f, 0.73105858f, 0.88079708f, 0.95257413f});
  expect_close(y.log_softmax(0),
               {std::log(0.26894142f), std::log(0.11920292f), std::log(0.04742587f),
                std::log(0.73105858f), std::log(0.88079708f), std::log(0.95257413f)});
  // Large logits do not overflow.
  expect_close(softmax(vec({1000, 1000}, {2}), 0), {0.5f, 0.5f});
  expect_close(log_softmax(vec({1000, 0}, {2}), 0), {0, -1000});
}

TEST(Softmax, Gradients) {
  for (int64_t dim : {-1, 0, 1}) {
    SCOPED_TRACE(dim);
    const Tensor x = uniform({2, 3, 4}, -2, 2);
    expect_gradients_match([&](Inputs v) { return softmax(v[0], dim); }, {x});
    expect_gradients_match([&](Inputs v) { return log_softmax(v[0], dim); }, {x});
  }
}

TEST(Gather, ValuesAndGradients) {
  const Tensor x = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor i1 = Tensor::from_vector(std::vector<int64_t>{2, 0, 1, 1}, {2, 2});
  expect_close(gather(x, 1, i1), {3, 1, 5, 5});
  const Tensor i0 = Tensor::from_vector(std::vector<int64_t>{1, 0, 1, 0, 0, 0}, {2, 3});
  expect_close(gather(x, 0, i0), {4, 2, 6, 1, 2, 3});
  expect_close(gather(x, -1, i1), {3, 1, 5, 5});
  // Repeated indices accumulate their gradients.
  expect_gradients_match([&](Inputs v) { return gather(v[0], 1, i1); }, {uniform({2, 3}, -1, 1)});
  expect_gradients_match([&](Inputs v) { return gather(v[0], 0, i0); }, {uniform({2, 3}, -1, 1)});
  Tensor leaf = x.detach().requires_grad(true);
  gather(leaf, 1, i1).sum().backward();
  expect_close(leaf.grad(), {1, 0, 1, 0, 2, 0});
}

TEST(Cat, ValuesAndGradients) {
  const Tensor a = vec({1, 2, 3, 4}, {2, 2});
  const Tensor b = vec({5, 6}, {2, 1});
  const Tensor c = vec({7, 8, 9, 10, 11, 12}, {2, 3});
  expect_close(cat({a, b, c}, 1), {1, 2, 5, 7, 8, 9, 3, 4, 6, 10, 11, 12});
  expect_close(cat({a, a.t()}, 0), {1, 2, 3, 4, 1, 3, 2, 4});
  expect_close(cat({b.t(), c.narrow(0, 1, 1)}, -1), {5, 6, 10, 11, 12});
  expect_gradients_match(
      [](Inputs v) {
        return cat({v[0], v[1], v[2]}, 1);
      },
      {uniform({2, 2}, -1, 1), uniform({2, 1}, -1, 1), uniform({2, 3}, -1, 1)});
  expect_gradients_match(
      [](Inputs v) {
        return cat({v[0], v[1].t()}, 0);
      },
      {uniform({1, 3}, -1, 1), uniform({3, 2}, -1, 1)});
}

// ---------------------------------------------------------------- linear algebra

namespace {
// matmul through broadcasting multiply and sum: an independent reference for the GEMM path.
Tensor matmul_reference(const Tensor& a, const Tensor& b) {
  NoGradGuard no_grad;
  return sum(mul(a.unsqueeze(-1), b.unsqueeze(-3)), {-2});
}
void expect_tensors_close(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.shape(), expected.shape());
  expect_close(actual, expected.contiguous().to_vector<float>(), 1e-5, 1e-5);
}
}  // namespace

TEST(Matmul, SmallValues) {
  const Tensor m1 = vec({1, 2, 3, 4}, {2, 2});
  const Tensor m2 = vec({5, 6, 7, 8}, {2, 2});
  expect_close(matmul(m1, m2), {19, 22, 43, 50});
  const Tensor dot = matmul(vec({1, 2, 3}, {3}), vec({4, 5, 6}, {3}));
  EXPECT_EQ(dot.shape(), Shape({}));
  EXPECT_FLOAT_EQ(dot.item<float>(), 32);
  const Tensor vm = vec({1, 2}, {2}).matmul(m2);
  EXPECT_EQ(vm.shape(), Shape({2}));
  expect_close(vm, {19, 22});
  const Tensor mv = matmul(m1, vec({5, 6}, {2}));
  EXPECT_EQ(mv.shape(), Shape({2}));
  expect_close(mv, {17, 39});
  expect_close(matmul(m1.t(), m2), {26, 30, 38, 44});
  expect_close(matmul(m1, m2.t()), {17, 23, 39, 53});
}

TEST(Matmul, ShapesAgainstReference) {
  struct Case {
    Shape a, b;
  };
  const std::vector<Case> cases = {
      {{3, 4}, {4, 5}},    {{2, 3, 4}, {2, 4, 5}}, {{2, 1, 3, 4}, {5, 4, 2}},
      {{3, 4}, {2, 4, 5}}, {{2, 3, 4}, {4, 5}},    {{1, 4}, {4, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.a.str() + " x " + c.b.str());
    const Tensor a = uniform(c.a, -1, 1, 3), b = uniform(c.b, -1, 1, 4);
    expect_tensors_close(matmul(a, b), matmul_reference(a, b));
    expect_gradients_match([](Inputs v) { return matmul(v[0], v[1]); }, {a, b});
  }
}

TEST(Matmul, VectorGradients) {
  const auto mm = [](Inputs v) { return matmul(v[0], v[1]); };
  expect_gradients_match(mm, {uniform({4}, -1, 1), uniform({4}, -1, 1, 2)});
  expect_gradients_match(mm, {uniform({4}, -1, 1), uniform({4, 3}, -1, 1, 2)});
  expect_gradients_match(mm, {uniform({3, 4}, -1, 1), uniform({4}, -1, 1, 2)});
  expect_gradients_match(mm, {uniform({4}, -1, 1), uniform({2, 4, 3}, -1, 1, 2)});
}

TEST(Matmul, TransposedAndStridedViews) {
  const Tensor x = uniform({4, 3}, -1, 1, 5), y = uniform({5, 4}, -1, 1, 6);
  // (3,4) x (4,5) with both operands transposed views.
  expect_tensors_close(matmul(x.t(), y.t()), matmul_reference(x.t(), y.t()));
  expect_gradients_match([](Inputs v) { return matmul(v[0].t(), v[1].t()); }, {x, y});
  // Batched transposed, and a step slice (neither layout is GEMM-ready).
  const Tensor bx = uniform({2, 4, 3}, -1, 1, 7), by = uniform({2, 8, 5}, -1, 1, 8);
  const auto f = [](Inputs v) { return matmul(v[0].transpose(1, 2), v[1].slice(1, 0, 8, 2)); };
  expect_tensors_close(f({bx, by}), matmul_reference(bx.transpose(1, 2), by.slice(1, 0, 8, 2)));
  expect_gradients_match(f, {bx, by});
  // An expanded (stride 0) operand.
  const Tensor e = vec({1, 2}, {2, 1}).expand({2, 3});
  expect_close(matmul(e, Tensor::ones({3, 1})), {3, 6});
}

TEST(Linear, ValuesAndGradients) {
  const Tensor x = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor w = vec({1, 0, -1, 0.5f, 0.5f, 0.5f}, {2, 3});
  const Tensor b = vec({10, 20}, {2});
  expect_close(linear(x, w, b), {8, 23, 8, 27.5f});
  expect_close(linear(x, w), {-2, 3, -2, 7.5f});
  const Tensor x3 = uniform({2, 3, 4}, -1, 1), w3 = uniform({5, 4}, -1, 1, 2),
               b3 = uniform({5}, -1, 1, 3);
  const Tensor y3 = linear(x3, w3, b3);
  EXPECT_EQ(y3.shape(), Shape({2, 3, 5}));
  expect_tensors_close(y3, matmul_reference(x3, w3.t()) + b3);
  expect_close(linear(vec({1, 2, 3}, {3}), w, b), {8, 23});
  const auto with_bias = [](Inputs v) { return linear(v[0], v[1], v[2]); };
  const auto no_bias = [](Inputs v) { return linear(v[0], v[1]); };
  expect_gradients_match(with_bias, {uniform({3, 4}, -1, 1), w3, b3});
  expect_gradients_match(no_bias, {uniform({3, 4}, -1, 1), w3});
  expect_gradients_match(with_bias, {x3, w3, b3});
  expect_gradients_match([](Inputs v) { return linear(v[0].t(), v[1]); },
                         {uniform({4, 3}, -1, 1), w3});
}

// ---------------------------------------------------------------- views

TEST(Views, Values) {
  const Tensor x = Tensor::arange(24).reshape({2, 3, 4});
  expect_close(x.slice(2, 0, 4, 2).select(0, 1), {12, 14, 16, 18, 20, 22});
  expect_close(x.slice(1, -2, 3), {4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23});
  expect_close(x.slice(2, 1, 100, 3).select(1, 0), {1, 13});
  expect_close(x.narrow(1, 1, 1).squeeze(1).select(1, -1), {7, 19});
  expect_close(x.permute({2, 0, 1}).select(0, 3), {3, 7, 11, 15, 19, 23});
  expect_close(x.transpose(0, 2).select(2, 1).select(1, 0), {12, 13, 14, 15});
  EXPECT_EQ(x.flatten().shape(), Shape({24}));
  EXPECT_EQ(x.flatten(1).shape(), Shape({2, 12}));
  EXPECT_EQ(x.flatten(0, 1).shape(), Shape({6, 4}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), Shape({2, 3, 4, 1}));
  EXPECT_EQ(x.unsqueeze(0).squeeze(0).shape(), Shape({2, 3, 4}));
  EXPECT_EQ(x.squeeze(1).shape(), Shape({2, 3, 4}));  // not size 1: unchanged
  EXPECT_EQ(x.reshape({4, -1}).shape(), Shape({4, 6}));
  expect_close(x.transpose(0, 2).transpose(2, 0), x.to_vector<float>());
  EXPECT_EQ(x.expand({2, 2, 3, 4}).shape(), Shape({2, 2, 3, 4}));
}

TEST(Views, ShareStorageWithTheBase) {
  Tensor x = Tensor::zeros({3, 4});
  x.t().select(0, 1).fill_(1);                // column 1
  x.slice(0, 0, 3, 2).select(1, 3).fill_(2);  // rows 0, 2 of column 3
  x.unsqueeze(0).squeeze(0).narrow(1, 0, 1).fill_(3);
  expect_close(x, {3, 1, 0, 2, 3, 1, 0, 0, 3, 1, 0, 2});
  EXPECT_TRUE(x.t().unsqueeze(1).squeeze(1).transpose(0, 1).is_contiguous());
  Tensor y = x.clone();
  y.fill_(0);
  EXPECT_FLOAT_EQ(x.sum().item<float>(), 16);
}

TEST(Views, Gradients) {
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> views = {
      {"reshape",
       [](const Tensor& x) {
         return x.reshape({4, -1});
       }},
      {"reshape of transposed", [](const Tensor& x) { return x.transpose(0, 1).reshape({-1}); }},
      {"view",
       [](const Tensor& x) {
         return x.view({6, 4});
       }},
      {"flatten", [](const Tensor& x) { return x.flatten(1); }},
      {"transpose", [](const Tensor& x) { return x.transpose(0, 2); }},
      {"permute",
       [](const Tensor& x) {
         return x.permute({1, 2, 0});
       }},
      {"slice step", [](const Tensor& x) { return x.slice(2, 1, 4, 2); }},
      {"slice negative", [](const Tensor& x) { return x.slice(1, -2, 3); }},
      {"narrow", [](const Tensor& x) { return x.narrow(1, 1, 2); }},
      {"select", [](const Tensor& x) { return x.select(1, -1); }},
      {"squeeze", [](const Tensor& x) { return x.narrow(1, 0, 1).squeeze(1); }},
      {"unsqueeze", [](const Tensor& x) { return x.unsqueeze(1); }},
      {"expand",
       [](const Tensor& x) {
         return x.narrow(1, 0, 1).expand({2, 2, 3, 4});
       }},
      {"expand same shape",
       [](const Tensor& x) {
         return x.expand({2, 3, 4});
       }},
      {"contiguous", [](const Tensor& x) { return x.transpose(1, 2).contiguous(); }},
      {"clone", [](const Tensor& x) { return x.clone(); }},
  };
  for (const auto& [name, f] : views) {
    SCOPED_TRACE(name);
    // Multiplying by the input makes a view used twice give a distinct gradient.
    expect_gradients_match([&](Inputs v) { return f(v[0]) * f(v[0]); },
                           {uniform({2, 3, 4}, -1, 1)});
  }
}

TEST(InPlace, AddIntoNonContiguousViews) {
  Tensor a = Tensor::ones({2, 3});
  a.t().add_(vec({1, 2, 3, 4, 5, 6}, {3, 2}));
  expect_close(a, {2, 4, 6, 3, 5, 7});
  a.slice(1, 0, 3, 2).add_(Tensor::scalar(1), -2.0f);  // columns 0 and 2
  expect_close(a, {0, 4, 4, 1, 5, 5});
  a.select(1, 1).add_(vec({10, 20}, {2}));
  expect_close(a, {0, 14, 4, 1, 25, 5});
}

TEST(Empty, OpsOnEmptyTensors) {
  const Tensor e = Tensor::zeros({0, 3});
  EXPECT_EQ(add(e, Tensor::ones({3})).shape(), Shape({0, 3}));
  EXPECT_EQ(where(e, e, e).shape(), Shape({0, 3}));
  EXPECT_EQ(e.t().contiguous().shape(), Shape({3, 0}));
  EXPECT_EQ(e.exp().shape(), Shape({0, 3}));
  expect_close(e.sum({0}), {0, 0, 0});
  EXPECT_EQ(e.softmax(1).shape(), Shape({0, 3}));
  expect_close(cat({Tensor::arange(2), Tensor::zeros({0})}, 0), {0, 1});
  expect_close(matmul(Tensor::ones({2, 0}), Tensor::ones({0, 2})), {0, 0, 0, 0});
  Tensor x = Tensor::ones({2, 3}).requires_grad(true);
  (x.slice(0, 1, 1) * 2.0f).sum().backward();
  expect_close(x.grad(), {0, 0, 0, 0, 0, 0});
}

// ---------------------------------------------------------------- large tensors (parallel loops)

TEST(Large, ParallelPathsMatchSerialReference) {
  // 40000 x 3 = 120000 elements: above the 32768-element grain, so the loops split across threads.
  const int64_t rows = 40000, cols = 3;
  std::vector<float> xv(rows * cols);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = static_cast<float>((i * 37) % 101) * 0.05f - 2.5f;
  const Tensor x = vec(xv, {rows, cols});
  const std::vector<float> bias{1, 2, 3};

  std::vector<float> e_exp(xv.size()), e_add(xv.size()), e_softmax(xv.size());
  std::vector<float> e_row(rows), e_col(cols);
  for (int64_t r = 0; r < rows; ++r) {
    double row = 0, z = 0;
    for (int64_t c = 0; c < cols; ++c) {
      const float v = xv[r * cols + c];
      e_exp[r * cols + c] = std::exp(v);
      e_add[r * cols + c] = v + bias[c];
      row += v;
      z += std::exp(static_cast<double>(v));
    }
    for (int64_t c = 0; c < cols; ++c)
      e_softmax[r * cols + c] = static_cast<float>(std::exp(xv[r * cols + c]) / z);
    e_row[r] = static_cast<float>(row);
  }
  for (int64_t c = 0; c < cols; ++c) {
    double col = 0;
    for (int64_t r = 0; r < rows; ++r) col += xv[r * cols + c];
    e_col[c] = static_cast<float>(col);
  }
  expect_close(x.exp(), e_exp);
  expect_close(x + vec(bias, {cols}), e_add);
  expect_close(x * x, [&] {
    std::vector<float> sq(xv.size());
    for (size_t i = 0; i < xv.size(); ++i) sq[i] = xv[i] * xv[i];
    return sq;
  }());
  const Tensor xt = x.t().contiguous();  // (3, 40000)
  // Parallel over many outputs: the last dim of (40000, 3) and dim 0 of (3, 40000).
  expect_close(x.sum({1}), e_row);
  expect_close(xt.sum({0}), e_row);
  // Few outputs of 40000-term sums (values up to 2.5; accumulated in double, rounded once).
  expect_close(x.sum({0}), e_col);
  expect_close(xt.sum({1}), e_col);
  expect_close(x.softmax(-1), e_softmax);
}

TEST(Large, ResultsDoNotDependOnTheThreadCount) {
  // Work is split into fixed chunks and sums accumulate per output, so 1 and 2 threads agree
  // bit for bit.
  const Tensor x = uniform({40000, 3}, -2, 2);
  const auto run = [&](int threads) {
    set_num_threads(threads);
    std::vector<float> all;
    for (const Tensor& t : {x.sum({0}), x.sum({1}), x.t().contiguous().sum({0}), x.softmax(1),
                            x.exp() * x, x.mean()}) {
      const std::vector<float> v = t.contiguous().to_vector<float>();
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  };
  const int previous = get_num_threads();
  const std::vector<float> one = run(1), two = run(2);
  set_num_threads(previous);
  EXPECT_EQ(one, two);
}
