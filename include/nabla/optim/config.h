// Optimizer configurations: one aggregate per optimizer, written with designated initialisers,
//   optim::SGDConfig{.lr = 0.1, .momentum = 0.9, .nesterov = true}
// Fields come in the order of PyTorch's constructor arguments and default to PyTorch's values;
// our own options follow. Each struct's field table (nabla/fields.h) follows it: the names, help
// and ranges that configuration files, command lines, validate() and checkpoints use. Every config
// ends with skip_nonfinite: a step whose gradients hold an inf or nan is skipped (step() returns
// false, no state changes, the step counter stays).
#pragma once

#include <array>
#include <limits>
#include <string>
#include <variant>

#include "nabla/fields.h"

namespace nabla::optim {

using Betas = std::array<double, 2>;

// The fields several optimizers have, declared once.
template <typename C>
constexpr auto lr_field() {
  return field("lr", &C::lr, "learning rate", at_least(0));
}
template <typename C>
constexpr auto momentum_field() {
  return field("momentum", &C::momentum, "momentum factor (0: none)", at_least(0));
}
template <typename C>
constexpr auto l2_field() {
  return field("weight_decay", &C::weight_decay, "L2 penalty, added to the gradient", at_least(0));
}
template <typename C>
constexpr auto eps_field() {
  return field("eps", &C::eps, "added to the denominator", above(0));
}
template <typename C>
constexpr auto betas_field() {
  return field("betas", &C::betas, "decays of the first and second moments", half_open(0, 1));
}
template <typename C>
constexpr auto amsgrad_field() {
  return field("amsgrad", &C::amsgrad, "divide by the largest second moment so far");
}
template <typename C>
constexpr auto bias_correction_field() {
  return field("bias_correction", &C::bias_correction, "correct the moments' start at zero");
}
template <typename C>
constexpr auto skip_field() {
  return field("skip_nonfinite", &C::skip_nonfinite, "skip a step whose gradients hold inf or nan");
}

// PyTorch's SGD has no default lr; ours is 0.01.
// Two forms of momentum, equal while the learning rate is constant:
//   PyTorch (classical = false): b = momentum b + (1 - dampening) d,  w -= lr b
//   lecture (classical = true):  v = momentum v + (1 - dampening) lr d,  w -= v
// where d = grad + weight_decay w, and the buffer starts at d (resp. lr d) on the first step.
// With nesterov the step is lr (d + momentum b), resp. lr d + momentum v.
struct SGDConfig {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  bool classical = false;
  bool skip_nonfinite = true;
};
constexpr auto fields(const SGDConfig*) {
  using C = SGDConfig;
  return std::tuple{
      lr_field<C>(),
      momentum_field<C>(),
      field("dampening", &C::dampening, "dampening of the momentum", closed(0, 1)),
      l2_field<C>(),
      field("nesterov", &C::nesterov, "Nesterov momentum"),
      field("classical", &C::classical, "the lecture's momentum form, lr inside the velocity"),
      skip_field<C>()};
}

// Per-weight local gains (delta-bar-delta, the lecture's form): gains start at 1; a gain grows by
// beta when the gradient keeps its sign and shrinks by (1 - beta) when it flips, then is clipped
// to [min_gain, max_gain]; w -= lr gain d, d = grad + weight_decay w.
struct AdaptiveGainConfig {
  double lr = 0.01;
  double beta = 0.05;
  double weight_decay = 0.0;
  double min_gain = 0.0;
  double max_gain = std::numeric_limits<double>::infinity();
  bool skip_nonfinite = true;
};
constexpr auto fields(const AdaptiveGainConfig*) {
  using C = AdaptiveGainConfig;
  return std::tuple{
      lr_field<C>(),
      field("beta", &C::beta, "a gain's growth while its gradient keeps its sign", half_open(0, 1)),
      l2_field<C>(),
      field("min_gain", &C::min_gain, "the smallest gain", at_least(0)),
      field("max_gain", &C::max_gain, "the largest gain (inf: no limit)", or_infinity(above(0))),
      skip_field<C>()};
}

// PyTorch: w -= lr d / (sqrt(mean_square) + eps); the lecture's form (eps_inside_sqrt = true):
// w -= lr d / sqrt(mean_square + eps). centered subtracts the squared mean gradient.
struct RMSpropConfig {
  double lr = 0.01;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
  bool eps_inside_sqrt = false;
  bool skip_nonfinite = true;
};
constexpr auto fields(const RMSpropConfig*) {
  using C = RMSpropConfig;
  return std::tuple{
      lr_field<C>(),
      field("alpha", &C::alpha, "decay of the mean square", half_open(0, 1)),
      eps_field<C>(),
      l2_field<C>(),
      momentum_field<C>(),
      field("centered", &C::centered, "divide by the variance, not the mean square"),
      field("eps_inside_sqrt", &C::eps_inside_sqrt, "the lecture's form: sqrt(mean_square + eps)"),
      skip_field<C>()};
}

// weight_decay is L2 (added to the gradient); AdamW decouples it.
// bias_correction (ours; PyTorch always corrects): with it, as PyTorch,
//   w -= lr m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t);
// without it, the lecture's uncorrected form w -= lr m / (sqrt(v) + eps), whose first steps are
// small while m and v still start from zero (the first is lr (1 - beta1) g / (sqrt(1 - beta2) |g|
// + eps)). With amsgrad, v is the running maximum either way.
struct AdamConfig {
  double lr = 1e-3;
  Betas betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool bias_correction = true;
  bool skip_nonfinite = true;
};
constexpr auto fields(const AdamConfig*) {
  using C = AdamConfig;
  return std::tuple{lr_field<C>(),      betas_field<C>(),           eps_field<C>(), l2_field<C>(),
                    amsgrad_field<C>(), bias_correction_field<C>(), skip_field<C>()};
}

// Adam with decoupled weight decay, w *= 1 - lr weight_decay before the step; bias_correction as
// in AdamConfig.
struct AdamWConfig {
  double lr = 1e-3;
  Betas betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool bias_correction = true;
  bool skip_nonfinite = true;
};
constexpr auto fields(const AdamWConfig*) {
  using C = AdamWConfig;
  return std::tuple{lr_field<C>(),
                    betas_field<C>(),
                    eps_field<C>(),
                    field("weight_decay", &C::weight_decay,
                          "decoupled weight decay, w *= 1 - lr weight_decay", at_least(0)),
                    amsgrad_field<C>(),
                    bias_correction_field<C>(),
                    skip_field<C>()};
}

struct AdagradConfig {
  double lr = 1e-2;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double initial_accumulator_value = 0.0;
  double eps = 1e-10;
  bool skip_nonfinite = true;
};
constexpr auto fields(const AdagradConfig*) {
  using C = AdagradConfig;
  return std::tuple{lr_field<C>(),
                    field("lr_decay", &C::lr_decay, "lr / (1 + (t - 1) lr_decay)", at_least(0)),
                    l2_field<C>(),
                    field("initial_accumulator_value", &C::initial_accumulator_value,
                          "the sum of squares' start", at_least(0)),
                    eps_field<C>(),
                    skip_field<C>()};
}

struct AdadeltaConfig {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0.0;
  bool skip_nonfinite = true;
};
constexpr auto fields(const AdadeltaConfig*) {
  using C = AdadeltaConfig;
  return std::tuple{lr_field<C>(), field("rho", &C::rho, "decay of the mean squares", closed(0, 1)),
                    field("eps", &C::eps, "added inside the square roots", above(0)), l2_field<C>(),
                    skip_field<C>()};
}

struct AdamaxConfig {
  double lr = 2e-3;
  Betas betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool skip_nonfinite = true;
};
constexpr auto fields(const AdamaxConfig*) {
  using C = AdamaxConfig;
  return std::tuple{lr_field<C>(), betas_field<C>(), eps_field<C>(), l2_field<C>(),
                    skip_field<C>()};
}

// PyTorch 1.13 semantics, including its mu-product bookkeeping.
struct NAdamConfig {
  double lr = 2e-3;
  Betas betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum_decay = 4e-3;
  bool skip_nonfinite = true;
};
constexpr auto fields(const NAdamConfig*) {
  using C = NAdamConfig;
  return std::tuple{
      lr_field<C>(),
      betas_field<C>(),
      eps_field<C>(),
      l2_field<C>(),
      field("momentum_decay", &C::momentum_decay, "NAdam's momentum schedule", at_least(0)),
      skip_field<C>()};
}

// SWATS (Keskar & Socher 2017): Adam until the projected SGD learning rate settles, then SGD
// with momentum beta1. After each Adam step p (per parameter group) with gradient d:
//   gamma = (p.p) / (-p.d),  lambda = beta2 lambda + (1 - beta2) gamma,
//   switch when t > 1 and |lambda / (1 - beta2^t) - gamma| < eps_switch; lr_sgd = lambda / (1 -
//   beta2^t).
// After the switch: v = beta1 v + d, w -= (1 - beta1) lr_sgd v. optim::swats_phase
// (optimizer.h) reports the switch. The test is absolute: gamma is on the scale of an SGD
// learning rate and, on mini-batches, noisy, so the default eps_switch, 1e-9, is
// practically never met; on MNIST (batch 64) 1e-4 to 1e-3 lets it switch (docs/lecture.md).
struct SWATSConfig {
  double lr = 1e-3;
  Betas betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0.0;
  double eps_switch = 1e-9;
  bool skip_nonfinite = true;
};
constexpr auto fields(const SWATSConfig*) {
  using C = SWATSConfig;
  return std::tuple{lr_field<C>(),
                    betas_field<C>(),
                    eps_field<C>(),
                    l2_field<C>(),
                    field("eps_switch", &C::eps_switch,
                          "how settled the projected SGD lr must be to switch", above(0)),
                    skip_field<C>()};
}

// Rprop as PyTorch's torch.optim.Rprop has it, which is iRprop- (Igel & Huesken 2000): every
// weight has its own step size, starting at lr, and moves by it against the sign of its gradient
// only; the gradient's size is not used. Per step, with d = grad + weight_decay w and d_prev the
// gradient kept from the last step (0 at first):
//   d d_prev > 0: step_size *= etas[1]   (the same sign again: faster)
//   d d_prev < 0: step_size *= etas[0], and d = 0: the weight does not move this step, and the
//                 next step's sign test finds 0 (so the step size is kept then)
//   otherwise:    step_size unchanged
// step_size is clipped to [step_sizes[0], step_sizes[1]], then w -= sign(d) step_size, and d
// is kept as d_prev. So lr matters only at the first step: like PyTorch's, a learning-rate
// schedule has no effect on Rprop after it. Rprop is a full-batch method: on mini-batches the
// sign of a weight's gradient flips with the batch's noise. weight_decay is ours (PyTorch's Rprop
// has none).
struct RpropConfig {
  double lr = 1e-2;
  std::array<double, 2> etas = {0.5, 1.2};          // (eta_minus, eta_plus)
  std::array<double, 2> step_sizes = {1e-6, 50.0};  // (the smallest, the largest step size)
  double weight_decay = 0.0;
  bool skip_nonfinite = true;
};
constexpr auto fields(const RpropConfig*) {
  using C = RpropConfig;
  return std::tuple{
      field("lr", &C::lr, "the initial step size", at_least(0)),
      field("etas", &C::etas, "step size factors after a sign flip and after the same sign"),
      field("step_sizes", &C::step_sizes, "the smallest and the largest step size"), l2_field<C>(),
      skip_field<C>()};
}

using OptimizerConfig = std::variant<SGDConfig, AdaptiveGainConfig, RMSpropConfig, AdamConfig,
                                     AdamWConfig, AdagradConfig, AdadeltaConfig, AdamaxConfig,
                                     NAdamConfig, SWATSConfig, RpropConfig>;

// "SGD", "AdaptiveGain", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "NAdam",
// "SWATS", "Rprop".
std::string optimizer_name(const OptimizerConfig& config);
// The default config of an optimizer named as above, case-insensitively ("sgd", "adamw", ...);
// throws nabla::Error listing the known names.
OptimizerConfig parse_optimizer(const std::string& name);
// Throws nabla::Error naming the first invalid field (negative lr, betas outside [0, 1), ...).
void validate(const OptimizerConfig& config);

}  // namespace nabla::optim
