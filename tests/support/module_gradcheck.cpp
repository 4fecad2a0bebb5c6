#include "support/module_gradcheck.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nabla::testing {

void expect_module_gradients_match(nn::Module& module, const Tensor& x,
                                   const GradCheckOptions& options) {
  // The input, through the ordinary checker.
  expect_gradients_match([&](const std::vector<Tensor>& in) { return module(in[0]); }, {x},
                         options);

  // The parameters, perturbed in place through their own handles.
  if (module.named_parameters().empty()) return;
  module.zero_grad();
  const Tensor out = module(x);
  Generator gen(4321);
  const Tensor r = Tensor::randn(out.shape(), &gen, {DType::Float32, out.device()});
  const std::vector<float> rv = r.to(Device::cpu()).to_vector<float>();
  (out * r).sum().backward();
  auto objective = [&] {
    NoGradGuard no_grad;
    const std::vector<float> y = module(x).to(Device::cpu()).contiguous().to_vector<float>();
    double s = 0.0;
    for (size_t i = 0; i < y.size(); ++i) s += static_cast<double>(y[i]) * rv[i];
    return s;
  };
  for (auto& [name, p] : module.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name << " received no gradient";
    const std::vector<float> analytic = p.grad().to(Device::cpu()).to_vector<float>();
    std::vector<float> v = p.to(Device::cpu()).to_vector<float>();
    Tensor handle = p;
    auto set = [&](size_t j, float value) {
      v[j] = value;
      NoGradGuard no_grad;
      handle.copy_(Tensor::from_vector(v, p.shape()));
    };
    for (size_t j = 0; j < v.size(); ++j) {
      const float x0 = v[j];
      const double h = options.eps * std::max(1.0, std::fabs(static_cast<double>(x0)));
      const float xp = static_cast<float>(x0 + h), xm = static_cast<float>(x0 - h);
      set(j, xp);
      const double fp = objective();
      set(j, xm);
      const double fm = objective();
      set(j, x0);
      const double numeric = (fp - fm) / (static_cast<double>(xp) - xm);
      EXPECT_NEAR(analytic[j], numeric, options.atol + options.rtol * std::fabs(numeric))
          << name << ", element " << j;
    }
  }
}

}  // namespace nabla::testing
