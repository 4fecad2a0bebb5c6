#include "support/gradcheck.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nabla::testing {

namespace {
double weighted_sum(const Tensor& out, const std::vector<float>& r) {
  const std::vector<float> v = out.to(Device::cpu()).contiguous().to_vector<float>();
  double s = 0.0;
  for (size_t i = 0; i < v.size(); ++i) s += static_cast<double>(v[i]) * r[i];
  return s;
}
}  // namespace

void expect_gradients_match(const Function& f, const std::vector<Tensor>& inputs,
                            const GradCheckOptions& options) {
  std::vector<Tensor> leaves;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor t = inputs[i].detach().clone();
    const bool skip = i < options.skip.size() && options.skip[i];
    if (t.dtype() == DType::Float32 && !skip) t.requires_grad(true);
    leaves.push_back(t);
  }
  const Tensor out = f(leaves);
  Generator gen(1234);
  const Tensor r = Tensor::randn(out.shape(), &gen, {DType::Float32, out.device()});
  const std::vector<float> rv = r.to(Device::cpu()).to_vector<float>();
  (out * r).sum().backward();

  for (size_t i = 0; i < leaves.size(); ++i) {
    if (!leaves[i].requires_grad()) continue;
    const Tensor analytic_t = leaves[i].grad();
    ASSERT_TRUE(analytic_t.defined()) << "input " << i << " received no gradient";
    const std::vector<float> analytic = analytic_t.to(Device::cpu()).to_vector<float>();
    std::vector<float> x = leaves[i].to(Device::cpu()).to_vector<float>();
    for (size_t j = 0; j < x.size(); ++j) {
      const float x0 = x[j];
      const double h = options.eps * std::max(1.0, std::fabs(static_cast<double>(x0)));
      auto eval_at = [&](double value) {
        NoGradGuard no_grad;
        x[j] = static_cast<float>(value);
        std::vector<Tensor> probe = leaves;
        probe[i] = Tensor::from_vector(x, leaves[i].shape(), leaves[i].device());
        return weighted_sum(f(probe), rv);
      };
      // Use the actually representable step so the quotient is exact in its denominator.
      const float xp = static_cast<float>(x0 + h), xm = static_cast<float>(x0 - h);
      const double numeric = (eval_at(xp) - eval_at(xm)) / (static_cast<double>(xp) - xm);
      x[j] = x0;
      EXPECT_NEAR(analytic[j], numeric, options.atol + options.rtol * std::fabs(numeric))
          << "input " << i << ", element " << j << " (x = " << x0 << ")";
    }
  }
}

Tensor uniform(const Shape& shape, float lo, float hi, uint64_t seed) {
  Generator gen(seed);
  return Tensor::rand(shape, &gen) * (hi - lo) + lo;
}

void expect_close(const Tensor& actual, const std::vector<float>& expected, double rtol,
                  double atol) {
  const std::vector<float> v = actual.to(Device::cpu()).contiguous().to_vector<float>();
  ASSERT_EQ(v.size(), expected.size()) << "shape " << actual.shape().str();
  for (size_t i = 0; i < v.size(); ++i)
    EXPECT_NEAR(v[i], expected[i], atol + rtol * std::fabs(expected[i])) << "element " << i;
}

void expect_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected a nabla::Error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message was: " << e.what();
  }
}

}  // namespace nabla::testing
