// A model summary: one row per top-level child of a Sequential (or one row for any other
// module) with its output shape and parameter count, then the totals.
#pragma once

#include <string>

#include "nabla/nn/module.h"
#include "nabla/shape.h"

namespace nabla::nn {

// Runs one forward pass on zeros of `input_shape` (batch dim included) on the model's device,
// in eval mode and without gradients; the model's modes are restored afterwards.
std::string summary(Module& model, const Shape& input_shape);

}  // namespace nabla::nn
