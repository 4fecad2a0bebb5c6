// Gradient checks through the module API: the gradients a module's backward leaves in its own
// parameters (and in its input) against central differences of sum(module(x) * r).
#pragma once

#include "nabla/nabla.h"
#include "support/gradcheck.h"

namespace nabla::testing {

// Checks d/dx and d/dparameter for every parameter of `module` (in its current mode).
void expect_module_gradients_match(nn::Module& module, const Tensor& x,
                                   const GradCheckOptions& options = {});

}  // namespace nabla::testing
