// nn::functional::dropout. The mask is never stored: the backward regenerates it from the
// (seed, offset) the forward drew at, on whichever device the gradient lives.
#include "backend/dropout.h"
#include "nabla/autograd.h"
#include "nabla/nn/functional.h"
#include "nabla/ops.h"
#include "ops/helpers.h"

namespace nabla::nn::functional {

// y = x m / (1 - p), m_i ~ Bernoulli(1 - p); dx = dy m / (1 - p).
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  ops::check_float(x, "dropout");
  NABLA_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got {}", p);
  if (!training || p == 0.0 || x.numel() == 0) return x;
  if (p == 1.0) return mul(x, 0.0f);  // everything dropped; keeps the graph (and NaN * 0)
  Generator& g = gen != nullptr ? *gen : default_generator();
  const uint64_t seed = g.seed(), offset = g.reserve(static_cast<uint64_t>(x.numel()));
  const float pf = static_cast<float>(p), scale = static_cast<float>(1.0 / (1.0 - p));
  const Tensor xc = x.contiguous();
  Tensor y = ops::empty_like(xc);
  backend::dropout_stub(x.device())(xc, y, pf, scale, seed, offset);
  return autograd::record("dropout", y, {x}, [=](const Tensor& dy_in) {
    const Tensor dy = dy_in.contiguous();
    Tensor dx = ops::empty_like(dy);
    backend::dropout_stub(dy.device())(dy, dx, pf, scale, seed, offset);
    return std::vector<Tensor>{dx};
  });
}

}  // namespace nabla::nn::functional
