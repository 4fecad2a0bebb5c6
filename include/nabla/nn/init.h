// nn::init: weight initialisation, as torch.nn.init. Tensor-level functions fill a tensor in
// place (outside autograd) and return it; config structs choose a scheme for a whole model:
//
//   nn::init::apply(model, nn::init::KaimingNormal{.nonlinearity = nn::init::Nonlinearity::ReLU});
//
// Every draw comes from a Generator (the default generator when null), so a seed fixes the
// initial weights, on the CPU and the GPU alike.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "nabla/generator.h"
#include "nabla/tensor.h"

namespace nabla::nn {
class Module;
}

namespace nabla::nn::init {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, Conv2d, Sigmoid, Tanh, ReLU, LeakyReLU, SELU };

// The recommended gain for a nonlinearity (torch.nn.init.calculate_gain); `param` is the
// negative slope of LeakyReLU.
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);
// Fans of a weight of at least 2 dims: (out, in, *receptive field). fan_in = in * receptive
// field size, fan_out = out * receptive field size.
int64_t fan_in(const Tensor& weight);
int64_t fan_out(const Tensor& weight);

// ---- tensor level: fill in place and return the same tensor ----
Tensor uniform_(const Tensor& t, double a = 0.0, double b = 1.0, Generator* gen = nullptr);
Tensor normal_(const Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
Tensor constant_(const Tensor& t, double value);
Tensor zeros_(const Tensor& t);
Tensor ones_(const Tensor& t);
// U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);
// N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);
// U(-b, b) with b = sqrt(3) * gain / sqrt(fan), gain = calculate_gain(nonlinearity, a).
Tensor kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyReLU,
                        Generator* gen = nullptr);
// N(0, s^2) with s = gain / sqrt(fan).
Tensor kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                       Nonlinearity nonlinearity = Nonlinearity::LeakyReLU,
                       Generator* gen = nullptr);

// ---- config structs, for init::apply ----
struct Uniform {
  double a = 0.0, b = 1.0;
};
struct Normal {
  double mean = 0.0, std = 1.0;
};
struct XavierUniform {
  double gain = 1.0;
};
struct XavierNormal {
  double gain = 1.0;
};
struct KaimingUniform {
  double a = 0.0;
  FanMode mode = FanMode::FanIn;
  Nonlinearity nonlinearity = Nonlinearity::LeakyReLU;
};
struct KaimingNormal {
  double a = 0.0;
  FanMode mode = FanMode::FanIn;
  Nonlinearity nonlinearity = Nonlinearity::LeakyReLU;
};
// PyTorch's layer defaults: weight kaiming_uniform with a = sqrt(5) (bound 1/sqrt(fan_in)),
// bias uniform in +-1/sqrt(fan_in).
struct Default {};

using InitConfig = std::variant<Default, Uniform, Normal, XavierUniform, XavierNormal,
                                KaimingUniform, KaimingNormal>;

// The schemes of the lecture's weight-initialisation experiment by name: "default", "uniform"
// (U(-0.1, 0.1)), "normal" (N(0, 0.1^2)), "xavier-uniform", "xavier-normal", "he-uniform",
// "he-normal" ("kaiming-*" also works), each with torch.nn.init's default arguments.
InitConfig from_name(const std::string& name);

// PyTorch's initialisation of a Linear or Conv2d: the weight by Default, the bias (when
// defined) uniform in +-1/sqrt(fan_in(weight)).
void default_init_(const Tensor& weight, const Tensor& bias, Generator* gen = nullptr);

// Fills one weight tensor by `config` (Default: the weight part of PyTorch's layer default).
Tensor init_(const Tensor& weight, const InitConfig& config, Generator* gen = nullptr);

// Re-initialises the weight of every Linear and Conv2d in `module` (depth first, in registration
// order). Their biases are zeroed, or left as they are when zero_bias is false; Default instead
// re-applies PyTorch's own initialisation to weight and bias. Other layers are not touched.
void apply(Module& module, const InitConfig& config, Generator* gen = nullptr,
           bool zero_bias = true);

}  // namespace nabla::nn::init
