// Elementwise math, written once for the CPU loops (kernels/cpu/elementwise.cpp) and the CUDA
// kernels (kernels/cuda/elementwise.cu). Each op is a template specialisation picked at compile
// time outside the loop, so the inner loops stay branch-free.
#pragma once

#include <math.h>

#include "kernels/math/hd.h"
#include "kernels/math/precision.h"

namespace nabla::kernels {

enum class UnaryOp {
  Neg,
  Exp,
  Log,
  Sqrt,
  Abs,
  Sign,
  Relu,
  Sigmoid,
  Tanh,
  Gelu,
  LeakyRelu,   // p0 = negative slope
  PowScalar,   // p0 = exponent
  Clamp,       // p0 = min, p1 = max
  AddScalar,   // p0
  MulScalar,   // p0
  RSubScalar,  // p0 - x
  RDivScalar,  // p0 / x
  RoundBf16,   // to the nearest bfloat16 (kernels/math/precision.h)
  RoundFp16,   // to the nearest float16
};

enum class BinaryOp {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Maximum,
  Minimum,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  // Backward helpers: a is the forward input x (or output y), b the output gradient dy.
  ReluBackward,       // dy * (x > 0)
  LeakyReluBackward,  // dy * (x > 0 ? 1 : p)
  SigmoidBackward,    // a = y: dy * y * (1 - y)
  TanhBackward,       // a = y: dy * (1 - y^2)
  GeluBackward,       // dy * (Phi(x) + x phi(x))
  ClampBackward,      // dy where p <= x <= q (p = min, q = max)
};

NABLA_HD float gelu_forward(float x) {
  return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}
NABLA_HD float gelu_derivative(float x) {
  const float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
  const float pdf = 0.39894228040143268f * expf(-0.5f * x * x);
  return cdf + x * pdf;
}
NABLA_HD float sigmoid_forward(float x) {
  // Split by sign so that exp never overflows.
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}

template <UnaryOp op>
NABLA_HD float unary(float x, float p0, float p1) {
  if constexpr (op == UnaryOp::Neg) return -x;
  if constexpr (op == UnaryOp::Exp) return expf(x);
  if constexpr (op == UnaryOp::Log) return logf(x);
  if constexpr (op == UnaryOp::Sqrt) return sqrtf(x);
  if constexpr (op == UnaryOp::Abs) return fabsf(x);
  if constexpr (op == UnaryOp::Sign) return static_cast<float>((x > 0.0f) - (x < 0.0f));
  if constexpr (op == UnaryOp::Relu) return x > 0.0f ? x : 0.0f;
  if constexpr (op == UnaryOp::Sigmoid) return sigmoid_forward(x);
  if constexpr (op == UnaryOp::Tanh) return tanhf(x);
  if constexpr (op == UnaryOp::Gelu) return gelu_forward(x);
  if constexpr (op == UnaryOp::LeakyRelu) return x > 0.0f ? x : p0 * x;
  if constexpr (op == UnaryOp::PowScalar) return powf(x, p0);
  if constexpr (op == UnaryOp::Clamp) return fminf(fmaxf(x, p0), p1);
  if constexpr (op == UnaryOp::AddScalar) return x + p0;
  if constexpr (op == UnaryOp::MulScalar) return x * p0;
  if constexpr (op == UnaryOp::RSubScalar) return p0 - x;
  if constexpr (op == UnaryOp::RDivScalar) return p0 / x;
  if constexpr (op == UnaryOp::RoundBf16) return round_to_bf16(x);
  if constexpr (op == UnaryOp::RoundFp16) return round_to_fp16(x);
  return 0.0f;
}

template <BinaryOp op>
NABLA_HD float binary(float a, float b, float p, float q) {
  if constexpr (op == BinaryOp::Add) return a + b;
  if constexpr (op == BinaryOp::Sub) return a - b;
  if constexpr (op == BinaryOp::Mul) return a * b;
  if constexpr (op == BinaryOp::Div) return a / b;
  if constexpr (op == BinaryOp::Pow) return powf(a, b);
  if constexpr (op == BinaryOp::Maximum) return a > b || a != a ? a : b;  // NaN propagates
  if constexpr (op == BinaryOp::Minimum) return a < b || a != a ? a : b;
  if constexpr (op == BinaryOp::Eq) return a == b ? 1.0f : 0.0f;
  if constexpr (op == BinaryOp::Ne) return a != b ? 1.0f : 0.0f;
  if constexpr (op == BinaryOp::Lt) return a < b ? 1.0f : 0.0f;
  if constexpr (op == BinaryOp::Le) return a <= b ? 1.0f : 0.0f;
  if constexpr (op == BinaryOp::Gt) return a > b ? 1.0f : 0.0f;
  if constexpr (op == BinaryOp::Ge) return a >= b ? 1.0f : 0.0f;
  if constexpr (op == BinaryOp::ReluBackward) return a > 0.0f ? b : 0.0f;
  if constexpr (op == BinaryOp::LeakyReluBackward) return a > 0.0f ? b : p * b;
  if constexpr (op == BinaryOp::SigmoidBackward) return b * a * (1.0f - a);
  if constexpr (op == BinaryOp::TanhBackward) return b * (1.0f - a * a);
  if constexpr (op == BinaryOp::GeluBackward) return b * gelu_derivative(a);
  if constexpr (op == BinaryOp::ClampBackward) return (a >= p && a <= q) ? b : 0.0f;
  return 0.0f;
}

// Calls f.template operator()<op>() for the runtime op: one switch, outside any loop.
template <typename F>
decltype(auto) visit_unary(UnaryOp op, F&& f) {
#define NABLA_CASE(name) \
  case UnaryOp::name:    \
    return f.template operator()<UnaryOp::name>()
  switch (op) {
    NABLA_CASE(Neg);
    NABLA_CASE(Exp);
    NABLA_CASE(Log);
    NABLA_CASE(Sqrt);
    NABLA_CASE(Abs);
    NABLA_CASE(Sign);
    NABLA_CASE(Relu);
    NABLA_CASE(Sigmoid);
    NABLA_CASE(Tanh);
    NABLA_CASE(Gelu);
    NABLA_CASE(LeakyRelu);
    NABLA_CASE(PowScalar);
    NABLA_CASE(Clamp);
    NABLA_CASE(AddScalar);
    NABLA_CASE(MulScalar);
    NABLA_CASE(RSubScalar);
    NABLA_CASE(RDivScalar);
    NABLA_CASE(RoundBf16);
    NABLA_CASE(RoundFp16);
  }
#undef NABLA_CASE
  return f.template operator()<UnaryOp::Neg>();
}

template <typename F>
decltype(auto) visit_binary(BinaryOp op, F&& f) {
#define NABLA_CASE(name) \
  case BinaryOp::name:   \
    return f.template operator()<BinaryOp::name>()
  switch (op) {
    NABLA_CASE(Add);
    NABLA_CASE(Sub);
    NABLA_CASE(Mul);
    NABLA_CASE(Div);
    NABLA_CASE(Pow);
    NABLA_CASE(Maximum);
    NABLA_CASE(Minimum);
    NABLA_CASE(Eq);
    NABLA_CASE(Ne);
    NABLA_CASE(Lt);
    NABLA_CASE(Le);
    NABLA_CASE(Gt);
    NABLA_CASE(Ge);
    NABLA_CASE(ReluBackward);
    NABLA_CASE(LeakyReluBackward);
    NABLA_CASE(SigmoidBackward);
    NABLA_CASE(TanhBackward);
    NABLA_CASE(GeluBackward);
    NABLA_CASE(ClampBackward);
  }
#undef NABLA_CASE
  return f.template operator()<BinaryOp::Add>();
}

}  // namespace nabla::kernels
