// The fused linear op (ops::linear_activation) and nn::Sequential's use of it for Linear + ReLU:
// gradient checks, the same values and gradients as the modules run one by one, and gradients
// added in place into the flat parameter arena.
#include <gtest/gtest.h>

#include "nabla/nabla.h"
#include "ops/linear.h"
#include "support/gradcheck.h"

namespace nabla {
namespace {

using ops::Activation;
using testing::expect_close;
using testing::expect_gradients_match;
using testing::uniform;

// Inputs moved away from the ReLU's kink: each pre-activation of linear_relu_inputs() is at
// least 0.02 from 0 (checked below); a step of 1e-3 in any input moves it by at most 4e-3.
std::vector<Tensor> linear_relu_inputs() {
  return {uniform({5, 4}, -1, 1, 11).requires_grad(true),
          uniform({3, 4}, -1, 1, 12).requires_grad(true),
          uniform({3}, -1, 1, 13).requires_grad(true)};
}

TEST(LinearActivation, GradcheckRelu) {
  const auto in = linear_relu_inputs();
  {
    NoGradGuard no_grad;
    const auto z = linear(in[0], in[1], in[2]).to_vector<float>();
    for (float v : z) ASSERT_GT(std::abs(v), 0.02f) << "a pre-activation too close to the kink";
  }
  expect_gradients_match(
      [](const std::vector<Tensor>& t) {
        return ops::linear_activation(t[0], t[1], t[2], Activation::Relu);
      },
      in);
  expect_gradients_match(
      [](const std::vector<Tensor>& t) {
        return ops::linear_activation(t[0], t[1], Tensor(), Activation::Relu);
      },
      {in[0], in[1]});
}

TEST(LinearActivation, GradcheckNoActivation) {
  const auto in = linear_relu_inputs();
  expect_gradients_match([](const std::vector<Tensor>& t) { return linear(t[0], t[1], t[2]); }, in);
  // A 3-D input goes through the 2-D op reshaped.
  expect_gradients_match([](const std::vector<Tensor>& t) { return linear(t[0], t[1], t[2]); },
                         {uniform({2, 3, 4}, -1, 1, 14).requires_grad(true), in[1], in[2]});
}

// The reference: the unfused ops, relu(x W^T + b) through matmul, add and relu.
Tensor reference(const Tensor& x, const Tensor& w, const Tensor& b) {
  return relu(add(matmul(x, w.t()), b));
}

TEST(LinearActivation, MatchesUnfusedOpsOverManyColumns) {
  // 150 outputs: several blocks of columns in the backward's column sums.
  const Tensor x = uniform({33, 20}, -1, 1, 21).requires_grad(true);
  const Tensor w = uniform({150, 20}, -1, 1, 22).requires_grad(true);
  const Tensor b = uniform({150}, -1, 1, 23).requires_grad(true);
  const Tensor r = uniform({33, 150}, -1, 1, 24);
  const Tensor y = ops::linear_activation(x, w, b, Activation::Relu);
  mul(y, r).sum().backward();
  const auto gx = x.grad().to_vector<float>(), gw = w.grad().to_vector<float>(),
             gb = b.grad().to_vector<float>();
  for (const Tensor& t : {x, w, b}) t.set_grad(Tensor());
  const Tensor expected = reference(x, w, b);
  mul(expected, r).sum().backward();
  expect_close(y, expected.to_vector<float>(), 1e-5, 1e-5);
  expect_close(x.grad(), gx, 1e-5, 1e-5);
  expect_close(w.grad(), gw, 1e-5, 1e-5);
  // A sum of 33 terms of size up to 1: float rounding of a few 1e-6.
  expect_close(b.grad(), gb, 1e-5, 1e-5);
}

// The MLP of the benchmarks, small: Linear + ReLU fused by Sequential, then a plain Linear.
std::shared_ptr<nn::Sequential> small_mlp() {
  manual_seed(3);
  return std::make_shared<nn::Sequential>(
      nn::Sequential{nn::Flatten(), nn::Linear(12, 9), nn::ReLU(), nn::Linear(9, 4)});
}

// The same model's layers called one by one (no fusion).
Tensor unfused_forward(nn::Sequential& m, const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i < m.size(); ++i) h = m[i].forward(h);
  return h;
}

std::vector<std::vector<float>> grads_of(nn::Module& m) {
  std::vector<std::vector<float>> out;
  for (const Tensor& p : m.parameters()) out.push_back(p.grad().to_vector<float>());
  return out;
}

void expect_same_grads(nn::Module& m, const std::vector<std::vector<float>>& expected) {
  const auto params = m.parameters();
  ASSERT_EQ(params.size(), expected.size());
  for (size_t i = 0; i < params.size(); ++i)
    expect_close(params[i].grad(), expected[i], 1e-5, 1e-6);
}

TEST(SequentialLinearRelu, SameValuesAndGradientsAsTheModulesOneByOne) {
  auto m = small_mlp();
  const Tensor x = uniform({6, 3, 4}, -1, 1, 31);
  const Tensor target = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 0, 1}, {6});
  const Tensor y_fused = (*m)(x);
  nn::functional::cross_entropy(y_fused, target.to(DType::Int64)).backward();
  const auto fused = grads_of(*m);
  m->zero_grad();
  const Tensor y_plain = unfused_forward(*m, x);
  nn::functional::cross_entropy(y_plain, target.to(DType::Int64)).backward();
  expect_close(y_fused, y_plain.to_vector<float>(), 1e-6, 1e-6);
  expect_same_grads(*m, fused);
}

TEST(SequentialLinearRelu, GradientsAddUpInPlaceInTheArena) {
  auto m = small_mlp();
  auto opt = optim::make_optimizer(m->parameters(), optim::SGDConfig{.lr = 0.1});
  const Tensor x = uniform({5, 12}, -1, 1, 41), r = uniform({5, 4}, -1, 1, 42);
  opt->zero_grad();
  mul(unfused_forward(*m, x), r).sum().backward();
  const auto once = grads_of(*m);
  const Tensor flat = opt->arena()->flat_grads();
  const float* arena_begin = flat.data<float>();
  // Two fused passes without zero_grad: twice the gradient, still in the arena's memory.
  opt->zero_grad();
  mul((*m)(x), r).sum().backward();
  mul((*m)(x), r).sum().backward();
  for (const Tensor& p : m->parameters()) {
    const float* g = p.grad().data<float>();
    EXPECT_TRUE(g >= arena_begin && g < arena_begin + flat.numel()) << "gradient left the arena";
  }
  std::vector<std::vector<float>> twice = once;
  for (auto& v : twice)
    for (float& e : v) e *= 2.0f;
  expect_same_grads(*m, twice);
}

TEST(SequentialLinearRelu, WrongInputWidthIsAnError) {
  auto m = small_mlp();
  testing::expect_error([&] { (*m)(Tensor::zeros({2, 13})); }, "linear: input of shape [2, 13]");
}

}  // namespace
}  // namespace nabla
