// Dropout's mask, written once for the CPU loop (kernels/cpu/dropout.cpp) and a CUDA kernel.
// Element i is kept when uniform i of the Philox stream (seed, offset) is at least p, so the
// forward and the backward (and both devices) regenerate the same mask instead of storing it.
#pragma once

#include <cstdint>

#include "kernels/math/hd.h"
#include "kernels/math/philox.h"

namespace nabla::kernels {

NABLA_HD bool dropout_keep(uint64_t seed, uint64_t offset, uint64_t i, float p) {
  return random::philox_uniform(seed, offset, i) >= p;
}

// in * scale where kept (scale = 1 / (1 - p)), else 0.
NABLA_HD float dropout_apply(float in, uint64_t seed, uint64_t offset, uint64_t i, float p,
                             float scale) {
  return dropout_keep(seed, offset, i, p) ? in * scale : 0.0f;
}

}  // namespace nabla::kernels
