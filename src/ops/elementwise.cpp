// Elementwise ops with broadcasting, and their derivatives.
#include <cmath>

#include "backend/dispatch.h"
#include "backend/elementwise.h"
#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "nabla/precision.h"
#include "ops/helpers.h"

namespace nabla {

using kernels::BinaryOp;
using kernels::UnaryOp;

namespace {

// Runs a unary kernel on a contiguous copy of x.
Tensor run_unary(UnaryOp op, const Tensor& x, float p0 = 0.0f, float p1 = 0.0f) {
  const Tensor in = x.contiguous();
  Tensor out = ops::empty_like(in);
  backend::unary_stub(in.device())(op, in, out, p0, p1);
  return out;
}

Tensor as_float(const Tensor& t) {
  return t.dtype() == DType::Float32 ? t : t.to(DType::Float32);
}

// Runs a binary kernel over the broadcast shape of a and b.
Tensor run_binary(BinaryOp op, const Tensor& a, const Tensor& b, const char* name, float p = 0.0f,
                  float q = 0.0f) {
  ops::check_float(a, name);
  ops::check_float(b, name);
  ops::check_same_device(a, b, name);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, {DType::Float32, a.device()});
  backend::binary_stub(a.device())(op, ops::broadcast_view(a, shape), ops::broadcast_view(b, shape),
                                   out, p, q);
  return out;
}

// y = f(x) where dy/dx = grad_op(x or y, dy), one kernel each way.
Tensor unary_with_grad(const char* name, UnaryOp op, BinaryOp grad_op, const Tensor& x,
                       bool grad_uses_output, float p0 = 0.0f, float p1 = 0.0f) {
  ops::check_float(x, name);
  Tensor y = run_unary(op, x, p0, p1);
  const Tensor saved = grad_uses_output ? y.detach() : x;
  return autograd::record(name, y, {x}, [saved, grad_op, p0, p1](const Tensor& g) {
    return std::vector<Tensor>{run_binary(grad_op, saved, g, "backward", p0, p1)};
  });
}

Tensor comparison(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  return run_binary(op, as_float(a), as_float(b), name);
}

}  // namespace

// ---------------------------------------------------------------- binary

// d(a+b) = (g, g), summed back over broadcast dims.
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(BinaryOp::Add, a, b, "add");
  return autograd::record("add", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(BinaryOp::Sub, a, b, "sub");
  return autograd::record("sub", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(neg(g), sb)};
  });
}

// d(ab) = (g b, g a)
Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(BinaryOp::Mul, a, b, "mul");
  const bool ga = autograd::needs_grad(a), gb = autograd::needs_grad(b);
  return autograd::record("mul", out, {a, b}, [a, b, ga, gb](const Tensor& g) {
    return std::vector<Tensor>{ga ? sum_to(mul(g, b.detach()), a.shape()) : Tensor(),
                               gb ? sum_to(mul(g, a.detach()), b.shape()) : Tensor()};
  });
}

// d(a/b) = (g / b, -g a / b^2)
Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(BinaryOp::Div, a, b, "div");
  const bool ga = autograd::needs_grad(a), gb = autograd::needs_grad(b);
  return autograd::record(
      "div", out, {a, b}, [a, b, out_d = out.detach(), ga, gb](const Tensor& g) {
        const Tensor bd = b.detach();
        return std::vector<Tensor>{ga ? sum_to(div(g, bd), a.shape()) : Tensor(),
                                   gb ? sum_to(neg(div(mul(g, out_d), bd)), b.shape()) : Tensor()};
      });
}

// d(a^b) = (g b a^(b-1), g a^b log a); the first is 0 where b = 0 (not 0 * inf at a = 0).
Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(BinaryOp::Pow, a, b, "pow");
  const bool ga = autograd::needs_grad(a), gb = autograd::needs_grad(b);
  return autograd::record(
      "pow", out, {a, b}, [a, b, out_d = out.detach(), ga, gb](const Tensor& g) {
        const Tensor ad = a.detach(), bd = b.detach();
        const Tensor zero = Tensor::zeros({}, {DType::Float32, g.device()});
        return std::vector<Tensor>{
            ga ? sum_to(where(eq(bd, zero), zero,
                              mul(g, mul(bd, pow(ad, sub(bd, Tensor::scalar(1.0f, bd.device())))))),
                        a.shape())
               : Tensor(),
            gb ? sum_to(mul(g, mul(out_d, log(ad))), b.shape()) : Tensor()};
      });
}

namespace {
// max/min: the gradient goes to the chosen side; ties split it evenly (as PyTorch).
Tensor extremum(const Tensor& a, const Tensor& b, bool is_max) {
  const char* name = is_max ? "maximum" : "minimum";
  Tensor out = run_binary(is_max ? BinaryOp::Maximum : BinaryOp::Minimum, a, b, name);
  return autograd::record(name, out, {a, b}, [a, b, is_max](const Tensor& g) {
    const Tensor ad = a.detach(), bd = b.detach();
    const Tensor a_wins = is_max ? gt(ad, bd) : lt(ad, bd);
    const Tensor tie = mul(eq(ad, bd), 0.5f);
    const Tensor wa = add(a_wins, tie);
    const Tensor wb = rsub(wa, 1.0f);
    return std::vector<Tensor>{sum_to(mul(g, wa), a.shape()), sum_to(mul(g, wb), b.shape())};
  });
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum(a, b, true);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum(a, b, false);
}

Tensor eq(const Tensor& a, const Tensor& b) {
  return comparison(BinaryOp::Eq, a, b, "eq");
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return comparison(BinaryOp::Ne, a, b, "ne");
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return comparison(BinaryOp::Lt, a, b, "lt");
}
Tensor le(const Tensor& a, const Tensor& b) {
  return comparison(BinaryOp::Le, a, b, "le");
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return comparison(BinaryOp::Gt, a, b, "gt");
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return comparison(BinaryOp::Ge, a, b, "ge");
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const Tensor c = as_float(cond);
  ops::check_float(a, "where");
  ops::check_float(b, "where");
  ops::check_same_device(c, a, "where");
  ops::check_same_device(a, b, "where");
  const Shape shape =
      broadcast_shapes(broadcast_shapes(c.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(shape, {DType::Float32, a.device()});
  backend::where_stub(a.device())(ops::broadcast_view(c, shape), ops::broadcast_view(a, shape),
                                  ops::broadcast_view(b, shape), out);
  return autograd::record(
      "where", out, {a, b}, [c, sa = a.shape(), sb = b.shape()](const Tensor& g) {
        const Tensor zero = Tensor::zeros({}, {DType::Float32, g.device()});
        return std::vector<Tensor>{sum_to(where(c, g, zero), sa), sum_to(where(c, zero, g), sb)};
      });
}

// ---------------------------------------------------------------- with scalars

Tensor add(const Tensor& a, float s) {
  ops::check_float(a, "add");
  return autograd::record("add", run_unary(UnaryOp::AddScalar, a, s), {a},
                          [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor mul(const Tensor& a, float s) {
  ops::check_float(a, "mul");
  return autograd::record("mul", run_unary(UnaryOp::MulScalar, a, s), {a},
                          [s](const Tensor& g) { return std::vector<Tensor>{mul(g, s)}; });
}

Tensor rsub(const Tensor& a, float s) {
  ops::check_float(a, "rsub");
  return autograd::record("rsub", run_unary(UnaryOp::RSubScalar, a, s), {a},
                          [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
}

// d(s/a) = -g s / a^2 = -g out / a
Tensor rdiv(const Tensor& a, float s) {
  ops::check_float(a, "rdiv");
  Tensor out = run_unary(UnaryOp::RDivScalar, a, s);
  return autograd::record("rdiv", out, {a}, [a, out_d = out.detach()](const Tensor& g) {
    return std::vector<Tensor>{neg(div(mul(g, out_d), a.detach()))};
  });
}

// d(a^p) = g p a^(p-1), and 0 for p = 0 (not 0 * inf at a = 0).
Tensor pow(const Tensor& a, float p) {
  ops::check_float(a, "pow");
  return autograd::record("pow", run_unary(UnaryOp::PowScalar, a, p), {a}, [a, p](const Tensor& g) {
    if (p == 0.0f) return std::vector<Tensor>{Tensor::zeros(g.shape(), {g.dtype(), g.device()})};
    return std::vector<Tensor>{mul(g, mul(pow(a.detach(), p - 1.0f), p))};
  });
}

Tensor clamp(const Tensor& a, float lo, float hi) {
  NABLA_CHECK(!(lo > hi), "clamp: min {} is greater than max {}", lo, hi);
  return unary_with_grad("clamp", UnaryOp::Clamp, BinaryOp::ClampBackward, a, false, lo, hi);
}

// ---------------------------------------------------------------- unary

Tensor neg(const Tensor& a) {
  ops::check_float(a, "neg");
  return autograd::record("neg", run_unary(UnaryOp::Neg, a), {a},
                          [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
}

// d exp(a) = g exp(a)
Tensor exp(const Tensor& a) {
  ops::check_float(a, "exp");
  Tensor out = run_unary(UnaryOp::Exp, a);
  return autograd::record("exp", out, {a}, [out_d = out.detach()](const Tensor& g) {
    return std::vector<Tensor>{mul(g, out_d)};
  });
}

// d log(a) = g / a
Tensor log(const Tensor& a) {
  ops::check_float(a, "log");
  return autograd::record("log", run_unary(UnaryOp::Log, a), {a},
                          [a](const Tensor& g) { return std::vector<Tensor>{div(g, a.detach())}; });
}

// d sqrt(a) = g / (2 sqrt(a))
Tensor sqrt(const Tensor& a) {
  ops::check_float(a, "sqrt");
  Tensor out = run_unary(UnaryOp::Sqrt, a);
  return autograd::record("sqrt", out, {a}, [out_d = out.detach()](const Tensor& g) {
    return std::vector<Tensor>{div(g, mul(out_d, 2.0f))};
  });
}

// d |a| = g sign(a)
Tensor abs(const Tensor& a) {
  ops::check_float(a, "abs");
  return autograd::record("abs", run_unary(UnaryOp::Abs, a), {a}, [a](const Tensor& g) {
    return std::vector<Tensor>{mul(g, run_unary(UnaryOp::Sign, a.detach()))};
  });
}

Tensor relu(const Tensor& a) {
  return unary_with_grad("relu", UnaryOp::Relu, BinaryOp::ReluBackward, a, false);
}
Tensor leaky_relu(const Tensor& a, float slope) {
  return unary_with_grad("leaky_relu", UnaryOp::LeakyRelu, BinaryOp::LeakyReluBackward, a, false,
                         slope);
}
Tensor sigmoid(const Tensor& a) {
  return unary_with_grad("sigmoid", UnaryOp::Sigmoid, BinaryOp::SigmoidBackward, a, true);
}
Tensor tanh(const Tensor& a) {
  return unary_with_grad("tanh", UnaryOp::Tanh, BinaryOp::TanhBackward, a, true);
}
Tensor gelu(const Tensor& a) {
  return unary_with_grad("gelu", UnaryOp::Gelu, BinaryOp::GeluBackward, a, false);
}

Tensor round_to(const Tensor& x, Precision p) {
  if (p == Precision::fp32 || !x.defined()) return x;
  ops::check_float(x, "round_to");
  const UnaryOp op = p == Precision::bf16 ? UnaryOp::RoundBf16 : UnaryOp::RoundFp16;
  return autograd::record("round_to", run_unary(op, x), {x},
                          [p](const Tensor& g) { return std::vector<Tensor>{round_to(g, p)}; });
}

// ---------------------------------------------------------------- operators

Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator-(const Tensor& a) {
  return neg(a);
}
Tensor operator+(const Tensor& a, float s) {
  return add(a, s);
}
Tensor operator+(float s, const Tensor& a) {
  return add(a, s);
}
Tensor operator-(const Tensor& a, float s) {
  return add(a, -s);
}
Tensor operator-(float s, const Tensor& a) {
  return rsub(a, s);
}
Tensor operator*(const Tensor& a, float s) {
  return mul(a, s);
}
Tensor operator*(float s, const Tensor& a) {
  return mul(a, s);
}
Tensor operator/(const Tensor& a, float s) {
  return mul(a, 1.0f / s);
}
Tensor operator/(float s, const Tensor& a) {
  return rdiv(a, s);
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.shape() != b.shape()) return false;
  const std::vector<float> va = a.to(Device::cpu()).to(DType::Float32).to_vector<float>();
  const std::vector<float> vb = b.to(Device::cpu()).to(DType::Float32).to_vector<float>();
  for (size_t i = 0; i < va.size(); ++i) {
    if (std::isnan(va[i]) || std::isnan(vb[i])) return false;
    if (std::fabs(va[i] - vb[i]) > atol + rtol * std::fabs(vb[i])) return false;
  }
  return true;
}

}  // namespace nabla
