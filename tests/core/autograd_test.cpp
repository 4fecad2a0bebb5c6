// The autograd engine: accumulation, graph shapes (reused nodes, diamonds, branches without a
// gradient), grad mode, detach, retained and freed graphs, and the errors users can hit.
#include <gtest/gtest.h>

#include <cmath>

#include "support/gradcheck.h"

using namespace nabla;
using nabla::testing::expect_close;
using nabla::testing::expect_error;
using nabla::testing::expect_gradients_match;

namespace {
using Inputs = const std::vector<Tensor>&;

Tensor leaf(std::vector<float> v, const Shape& shape) {
  Tensor t = Tensor::from_vector(v, shape);
  t.requires_grad(true);
  return t;
}
}  // namespace

TEST(Autograd, LeafGradientsAccumulateAcrossBackwardCalls) {
  Tensor x = leaf({1, 2, 3}, {3});
  (x * x).sum().backward();  // 2x
  expect_close(x.grad(), {2, 4, 6});
  (x * 3.0f).sum().backward();  // + 3
  expect_close(x.grad(), {5, 7, 9});
}

TEST(Autograd, ReusedNode) {
  // y = x*x + x, z = y*y: dz/dx = 2y (2x + 1).
  Tensor x = leaf({1, -2, 0.5f}, {3});
  const Tensor y = x * x + x;
  const Tensor z = y * y;
  z.sum().backward();
  expect_close(x.grad(), {2 * 2 * 3, 2 * 2 * -3, 2 * 0.75f * 2});
  expect_gradients_match(
      [](Inputs v) {
        const Tensor y = v[0] * v[0] + v[0];
        return y * y;
      },
      {Tensor::from_vector({1, -2, 0.5f}, {3})});
}

TEST(Autograd, DiamondGraph) {
  // a = 2x; b = exp(a); c = a^2; out = b * c: both branches meet again at `a`.
  Tensor x = leaf({0.3f, -0.2f}, {2});
  const Tensor a = x * 2.0f;
  (a.exp() * a.pow(2.0f)).sum().backward();
  std::vector<float> expected;
  for (float xv : {0.3f, -0.2f}) {
    const float av = 2 * xv;
    expected.push_back(2 * (std::exp(av) * av * av + std::exp(av) * 2 * av));
  }
  expect_close(x.grad(), expected, 1e-5, 1e-6);
  expect_gradients_match(
      [](Inputs v) {
        const Tensor a = v[0] * 2.0f;
        const Tensor b = a.sigmoid(), c = a.tanh();
        return matmul(b, c) + (b - c).sum();
      },
      {Tensor::from_vector({0.3f, -0.2f, 0.7f}, {3})});
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor x = leaf({1, 2}, {2});
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(autograd::grad_enabled());
    const Tensor y = (x * 2.0f).exp().sum();
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    { NoGradGuard nested; }
    EXPECT_FALSE(autograd::grad_enabled());
  }
  EXPECT_TRUE(autograd::grad_enabled());
  EXPECT_NE((x * 2.0f).grad_fn(), nullptr);
}

TEST(Autograd, DetachCutsTheGraphAndSharesStorage) {
  Tensor x = leaf({1, 2}, {2});
  const Tensor y = x * 3.0f;
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  // d is a constant in the next expression: only the direct path contributes.
  (y * d).sum().backward();
  expect_close(x.grad(), {9, 18});  // d(3x * const)/dx = 3 * const
  d.fill_(0);
  expect_close(y.detach(), {0, 0});  // same storage
}

TEST(Autograd, RequiresGradOnANonLeafIsAnError) {
  Tensor x = leaf({1}, {1});
  Tensor y = x * 2.0f;
  expect_error([&] { y.requires_grad(true); }, "only leaf tensors");
  expect_error([] { Tensor::from_vector(std::vector<int64_t>{1}, {1}).requires_grad(true); },
               "only float32");
}

TEST(Autograd, BackwardNeedsAGradientForANonScalar) {
  Tensor x = leaf({1, 2}, {2});
  expect_error([&] { (x * 2.0f).backward(); }, "non-scalar output of shape [2]");
  expect_error([&] { (x * 2.0f).backward(Tensor::ones({3})); }, "gradient of shape [3]");
  expect_error([] { Tensor::ones({1}).backward(); }, "does not require a gradient");
}

TEST(Autograd, BackwardWithAnExplicitGradient) {
  Tensor x = leaf({1, 2, 3}, {3});
  (x * x).backward(Tensor::from_vector({1, 0, -1}, {3}));
  expect_close(x.grad(), {2, 0, -6});
  // On a leaf itself the gradient is copied in.
  Tensor w = leaf({1, 2}, {2});
  const Tensor g = Tensor::from_vector({0.5f, 4}, {2});
  w.backward(g);
  expect_close(w.grad(), {0.5f, 4});
  EXPECT_NE(w.grad().raw_data(), g.raw_data());
}

TEST(Autograd, FreedGraphAndRetainGraph) {
  Tensor x = leaf({1, 2}, {2});
  const Tensor y = (x * x).sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  expect_close(x.grad(), {4, 8});
  expect_error([&] { y.backward(); }, "already freed");
  expect_error([&] { y.backward(); }, "retain_graph");
}

TEST(Autograd, FreedIntermediateIsNamedWhenReused) {
  Tensor x = leaf({1, 2}, {2});
  const Tensor h = x.exp();
  (h * 2.0f).sum().backward();
  expect_error([&] { (h * 3.0f).sum().backward(); }, "'exp'");
}

TEST(Autograd, BranchWithoutGradient) {
  Tensor x = leaf({1, 2}, {2});
  Tensor w = leaf({3, 4}, {2});
  // A custom op whose backward returns nothing for its input: no gradient reaches x through
  // it, while w still gets its gradient through the other branch.
  const Tensor h = x * 2.0f;
  const Tensor blocked = autograd::record("blocked", h.detach().clone(), {h},
                                          [](const Tensor&) { return std::vector<Tensor>(1); });
  (blocked * w).sum().backward();
  EXPECT_FALSE(x.grad().defined());
  expect_close(w.grad(), {2, 4});
  // The same op next to a branch that does carry a gradient to x.
  Tensor x2 = leaf({1, 2}, {2});
  const Tensor h2 = x2 * 2.0f;
  const Tensor b2 = autograd::record("blocked", h2.detach().clone(), {h2},
                                     [](const Tensor&) { return std::vector<Tensor>(1); });
  (b2 + h2 * x2).sum().backward();
  expect_close(x2.grad(), {4, 8});  // d(2x * x)/dx = 4x
}

TEST(Autograd, InputsWithoutRequiresGradGetNoGradient) {
  Tensor x = leaf({1, 2}, {2});
  const Tensor c = Tensor::from_vector({5, 6}, {2});
  (x * c + c).sum().backward();
  expect_close(x.grad(), {5, 6});
  EXPECT_FALSE(c.grad().defined());
  EXPECT_TRUE(c.is_leaf());
}

TEST(Autograd, LeafGradientsAreNotAliased) {
  // add's backward hands the same gradient tensor to both inputs and onwards; each leaf must
  // own its own copy.
  Tensor a = leaf({1, 2}, {2});
  Tensor b = leaf({3, 4}, {2});
  const Tensor root_grad = Tensor::from_vector({1, 1}, {2});
  (a + b).backward(root_grad);
  a.grad().fill_(100);
  expect_close(b.grad(), {1, 1});
  expect_close(root_grad, {1, 1});
  // A later accumulation adds in place into the leaf's own buffer.
  const void* storage = a.grad().raw_data();
  (a + b).backward(root_grad);
  expect_close(a.grad(), {101, 101});
  expect_close(b.grad(), {2, 2});
  EXPECT_EQ(a.grad().raw_data(), storage);
}

TEST(Autograd, ViewOfALeafGetsItsGradientBack) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  (x.t().select(0, 1) * 2.0f).sum().backward();  // column 1
  expect_close(x.grad(), {0, 2, 0, 0, 2, 0});
}
