// CPU-vs-GPU parity: run the same function on CPU and CUDA copies of the same inputs and compare
// outputs and input gradients. Tests in tests/gpu/ use it; each skips itself without a device.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "nabla/nabla.h"

namespace nabla::testing {

#define NABLA_REQUIRE_CUDA()                                                           \
  do {                                                                                 \
    if (!::nabla::cuda::is_available())                                                \
      GTEST_SKIP() << (::nabla::cuda::is_compiled() ? "no CUDA device on this machine" \
                                                    : "nabla was built without CUDA"); \
  } while (0)

struct ParityTolerance {
  // float32 kernels that sum in another order (or fuse multiply-adds) differ in the last bits;
  // reductions over n terms grow the error roughly with sqrt(n) ulps.
  double rtol = 1e-5;
  double atol = 1e-6;
};

// Runs f on the CPU and on cuda:0 (inputs copied, float inputs requiring gradients), compares
// the outputs and, when the output needs a gradient, the gradients of sum(out * r).
void expect_cpu_cuda_parity(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                            const std::vector<Tensor>& inputs, ParityTolerance tol = {});

}  // namespace nabla::testing
