// Gradient checks: the analytic gradient of sum(f(inputs) * r), for a fixed random r, against
// central differences. Tensors are float32, so the differences are taken with a step large
// enough to keep rounding error small (eps 1e-3 relative), and accumulated in double.
#pragma once

#include <functional>
#include <vector>

#include "nabla/nabla.h"

namespace nabla::testing {

using Function = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradCheckOptions {
  double eps = 1e-3;  // relative step (times max(1, |x|))
  // Central differences in float32 carry an error of about 1e-7 |f| / eps + eps^2 |f'''|.
  double atol = 2e-3;
  double rtol = 1e-2;
  // Inputs not to check (for example integer indices).
  std::vector<bool> skip;
};

// Checks every element of the gradient of every float input; reports mismatches with gtest.
void expect_gradients_match(const Function& f, const std::vector<Tensor>& inputs,
                            const GradCheckOptions& options = {});

// Random float32 tensor with entries in [lo, hi), from a fixed seed.
Tensor uniform(const Shape& shape, float lo, float hi, uint64_t seed = 1);

// Element-wise comparison with a readable failure message.
void expect_close(const Tensor& actual, const std::vector<float>& expected, double rtol = 1e-5,
                  double atol = 1e-6);

// Runs f and expects a nabla::Error whose message contains `needle`.
void expect_error(const std::function<void()>& f, const std::string& needle);

}  // namespace nabla::testing
