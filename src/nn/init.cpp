// Weight initialisers with torch.nn.init's formulas, drawing from a Generator.
#include "nabla/nn/init.h"

#include <algorithm>

#include <cmath>

#include "nabla/autograd.h"
#include "nabla/nn/layers.h"
#include "nabla/ops.h"

namespace nabla::nn::init {

namespace {

void check_float(const Tensor& t, const char* fn) {
  NABLA_CHECK(t.defined(), "init::{}: the tensor is undefined", fn);
  NABLA_CHECK(t.dtype() == DType::Float32, "init::{}: expected a float32 tensor, got {}", fn,
              dtype_name(t.dtype()));
}

int64_t receptive_field(const Tensor& w, const char* fn) {
  NABLA_CHECK(w.dim() >= 2,
              "init::{}: fans need a tensor of at least 2 dims (out, in, ...), got shape {}", fn,
              w.shape().str());
  int64_t r = 1;
  for (int64_t d = 2; d < w.dim(); ++d) r *= w.shape()[d];
  return r;
}

int64_t fan(const Tensor& w, FanMode mode) {
  return mode == FanMode::FanIn ? fan_in(w) : fan_out(w);
}

// Overwrites t with `values` (same shape) outside autograd.
Tensor assign(const Tensor& t, const Tensor& values) {
  Tensor handle = t;
  handle.copy_(values);
  return t;
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv2d:
    case Nonlinearity::Sigmoid:
      return 1.0;
    case Nonlinearity::Tanh:
      return 5.0 / 3.0;
    case Nonlinearity::ReLU:
      return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU:
      return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::SELU:
      return 3.0 / 4.0;
  }
  NABLA_ASSERT(false, "unknown nonlinearity {}", static_cast<int>(nonlinearity));
}

int64_t fan_in(const Tensor& w) {
  const int64_t r = receptive_field(w, "fan_in");  // checks the rank first
  return w.shape()[1] * r;
}
int64_t fan_out(const Tensor& w) {
  const int64_t r = receptive_field(w, "fan_out");
  return w.shape()[0] * r;
}

Tensor uniform_(const Tensor& t, double a, double b, Generator* gen) {
  check_float(t, "uniform_");
  NABLA_CHECK(a <= b, "init::uniform_: a = {} must not exceed b = {}", a, b);
  NoGradGuard no_grad;
  const Tensor r = Tensor::rand(t.shape(), gen, {DType::Float32, t.device()});
  return assign(t, r * static_cast<float>(b - a) + static_cast<float>(a));
}

Tensor normal_(const Tensor& t, double mean, double std, Generator* gen) {
  check_float(t, "normal_");
  NABLA_CHECK(std >= 0.0, "init::normal_: std = {} must be non-negative", std);
  NoGradGuard no_grad;
  const Tensor r = Tensor::randn(t.shape(), gen, {DType::Float32, t.device()});
  return assign(t, r * static_cast<float>(std) + static_cast<float>(mean));
}

Tensor constant_(const Tensor& t, double value) {
  NABLA_CHECK(t.defined(), "init::constant_: the tensor is undefined");
  Tensor handle = t;
  handle.fill_(value);
  return t;
}
Tensor zeros_(const Tensor& t) {
  return constant_(t, 0.0);
}
Tensor ones_(const Tensor& t) {
  return constant_(t, 1.0);
}

Tensor xavier_uniform_(const Tensor& t, double gain, Generator* gen) {
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in(t) + fan_out(t)));
  const double bound = std::sqrt(3.0) * std;  // U(-b, b) has variance b^2 / 3
  return uniform_(t, -bound, bound, gen);
}

Tensor xavier_normal_(const Tensor& t, double gain, Generator* gen) {
  return normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in(t) + fan_out(t))), gen);
}

Tensor kaiming_uniform_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity,
                        Generator* gen) {
  if (t.numel() == 0) return t;
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan(t, mode)));
  const double bound = std::sqrt(3.0) * std;
  return uniform_(t, -bound, bound, gen);
}

Tensor kaiming_normal_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity,
                       Generator* gen) {
  if (t.numel() == 0) return t;
  return normal_(
      t, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan(t, mode))), gen);
}

Tensor init_(const Tensor& w, const InitConfig& config, Generator* gen) {
  struct Visitor {
    const Tensor& w;
    Generator* gen;
    // a = sqrt(5): gain sqrt(2 / 6), so the bound is sqrt(3) * sqrt(1/3) / sqrt(fan_in).
    Tensor operator()(const Default&) const {
      return kaiming_uniform_(w, std::sqrt(5.0), FanMode::FanIn, Nonlinearity::LeakyReLU, gen);
    }
    Tensor operator()(const Uniform& c) const { return uniform_(w, c.a, c.b, gen); }
    Tensor operator()(const Normal& c) const { return normal_(w, c.mean, c.std, gen); }
    Tensor operator()(const XavierUniform& c) const { return xavier_uniform_(w, c.gain, gen); }
    Tensor operator()(const XavierNormal& c) const { return xavier_normal_(w, c.gain, gen); }
    Tensor operator()(const KaimingUniform& c) const {
      return kaiming_uniform_(w, c.a, c.mode, c.nonlinearity, gen);
    }
    Tensor operator()(const KaimingNormal& c) const {
      return kaiming_normal_(w, c.a, c.mode, c.nonlinearity, gen);
    }
  };
  return std::visit(Visitor{w, gen}, config);
}

void default_init_(const Tensor& weight, const Tensor& bias, Generator* gen) {
  init_(weight, Default{}, gen);
  if (!bias.defined()) return;
  const int64_t fi = fan_in(weight);
  const double bound = fi > 0 ? 1.0 / std::sqrt(static_cast<double>(fi)) : 0.0;
  uniform_(bias, -bound, bound, gen);
}

void apply(Module& module, const InitConfig& config, Generator* gen, bool zero_bias) {
  for (auto& [_, m] : module.named_modules()) {
    Tensor weight, bias;
    if (auto* linear = dynamic_cast<Linear*>(m)) {
      weight = linear->weight(), bias = linear->bias();
    } else if (auto* conv = dynamic_cast<Conv2d*>(m)) {
      weight = conv->weight(), bias = conv->bias();
    } else {
      continue;
    }
    if (std::holds_alternative<Default>(config)) {
      default_init_(weight, bias, gen);
    } else {
      init_(weight, config, gen);
      if (zero_bias && bias.defined()) zeros_(bias);
    }
  }
}

InitConfig from_name(const std::string& name) {
  std::string n = name;
  std::replace(n.begin(), n.end(), '_', '-');
  if (n.rfind("kaiming-", 0) == 0) n = "he-" + n.substr(8);
  if (n == "default") return Default{};
  if (n == "uniform") return Uniform{-0.1, 0.1};
  if (n == "normal") return Normal{0.0, 0.1};
  if (n == "xavier-uniform") return XavierUniform{};
  if (n == "xavier-normal") return XavierNormal{};
  if (n == "he-uniform") return KaimingUniform{};
  if (n == "he-normal") return KaimingNormal{};
  NABLA_FAIL(
      "unknown initialisation '{}': expected default, uniform, normal, xavier-uniform, "
      "xavier-normal, he-uniform or he-normal",
      name);
}

}  // namespace nabla::nn::init
