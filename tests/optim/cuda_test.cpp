// Optimizers on the GPU against the CPU: the same loop with every config on both devices. The
// same NABLA_HD rule runs on both; results may differ in the last bits (fused multiply-add), so
// they are compared with a tolerance. Skipped without a CUDA device.
#include <gtest/gtest.h>

#include "support/optim_fixtures.h"

using namespace nabla;
namespace fx = nabla::testing::optim_fixtures;

namespace {

fx::Values run_on(Device device, const optim::OptimizerConfig& config, const fx::Values& init) {
  std::vector<Tensor> params;
  for (size_t k = 0; k < init.size(); ++k)
    params.push_back(
        Tensor::from_vector(init[k], fx::kShapes[k]).to(device).detach().requires_grad(true));
  auto opt = optim::make_optimizer(params, config);
  for (int t = 1; t <= fx::kSteps; ++t) {
    if (t == fx::kLrHalvingStep) opt->set_lr(opt->lr() * 0.5);
    fx::set_gradients(params, t);
    EXPECT_TRUE(opt->step());
  }
  fx::Values out;
  for (const Tensor& p : params) out.push_back(p.to(Device::cpu()).to_vector<float>());
  return out;
}

TEST(OptimCuda, EveryOptimizerMatchesTheCpu) {
  if (!cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const fx::Fixture f = fx::read_fixture("sgd_plain");
  const std::vector<optim::OptimizerConfig> configs = {
      optim::SGDConfig{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true},
      optim::SGDConfig{.lr = 0.05, .momentum = 0.9, .classical = true},
      optim::AdaptiveGainConfig{.lr = 0.01, .max_gain = 10.0},
      optim::RMSpropConfig{.lr = 0.01, .momentum = 0.5, .centered = true},
      optim::RMSpropConfig{.lr = 0.01, .eps_inside_sqrt = true},
      optim::AdamConfig{.lr = 0.05, .amsgrad = true},
      optim::AdamWConfig{.lr = 0.05},
      optim::AdamConfig{.lr = 0.05, .amsgrad = true, .bias_correction = false},
      optim::AdagradConfig{.lr = 0.1},
      optim::AdadeltaConfig{.lr = 1.0},
      optim::AdamaxConfig{.lr = 0.05},
      optim::NAdamConfig{.lr = 0.05},
      optim::SWATSConfig{.lr = 0.01, .eps_switch = 2e-3},
      optim::RpropConfig{.lr = 0.01, .etas = {0.5, 1.5}, .step_sizes = {0.004, 0.02}},
      optim::RpropConfig{.lr = 0.01, .weight_decay = 0.05}};
  for (const auto& config : configs) {
    SCOPED_TRACE(optim::optimizer_name(config));
    const auto cpu = run_on(Device::cpu(), config, f.initial);
    const auto gpu = run_on(Device::cuda(), config, f.initial);
    EXPECT_LT(fx::max_rel_error(gpu, cpu), 1e-5);
  }
}

TEST(OptimCuda, ClippingAndNonFiniteSkip) {
  if (!cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  Tensor w = Tensor::zeros({1000}).to(Device::cuda()).detach().requires_grad(true);
  auto opt = optim::make_optimizer({w}, optim::AdamConfig{});
  w.grad().fill_(2.0);  // the parameter's slice: the arena's padding stays zero
  EXPECT_NEAR(optim::clip_grad_norm(*opt, 1.0), 2.0 * std::sqrt(1000.0), 1e-3);
  EXPECT_NEAR(optim::global_norm(opt->arena()->flat_grads()), 1.0, 1e-5);
  w.grad().narrow(0, 10, 1).fill_(NAN);
  EXPECT_FALSE(opt->step());
  EXPECT_EQ(opt->step_count(), 0);
}

}  // namespace
