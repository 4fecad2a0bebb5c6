// Rounding of float32 values to bfloat16 and float16, written once for the CPU loops and the CUDA
// kernels. Both round to nearest, ties to even, as cuBLAS, cuDNN and PyTorch's casts do; the
// result stays a float32 that holds a value of the narrower type exactly.
//   bf16: 8 exponent bits like float32, 7 mantissa bits; subnormals round like the rest, and a
//         finite value past the largest bf16 rounds to infinity.
//   fp16: 5 exponent bits, 10 mantissa bits; 65520 and above round to infinity, below 2^-14 the
//         steps are the subnormals' 2^-24, and below 2^-25 (or at it: a tie) to a signed zero.
// NaN stays NaN (quiet) in both.
#pragma once

#include <stdint.h>
#include <string.h>

#include "kernels/math/hd.h"

namespace nabla::kernels {

NABLA_HD uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
#endif
}

NABLA_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
#endif
}

NABLA_HD float round_to_bf16(float x) {
  const uint32_t u = float_bits(x);
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  // Adding just under half of the dropped part's unit, plus the kept part's lowest bit, carries
  // into the kept bits exactly when round-to-nearest-even goes up.
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  return bits_float(nan ? (u | 0x00400000u) & 0xffff0000u : rounded);
}

// Every case is computed and one selected, so that a loop over it vectorises.
NABLA_HD float round_to_fp16(float x) {
  const uint32_t u = float_bits(x);
  const uint32_t sign = u & 0x80000000u, a = u & 0x7fffffffu;
  // Below 2^-14, a subnormal: added to 0.5 the value lines up with float32's step there, 2^-24,
  // which is float16's subnormal step, so the addition itself rounds (to nearest even) and the
  // subtraction is exact.
  const uint32_t subnormal = float_bits((bits_float(a) + 0.5f) - 0.5f);
  // A normal float16 keeps 10 of float32's 23 mantissa bits.
  const uint32_t normal = (a + 0xfffu + ((a >> 13) & 1u)) & 0xffffe000u;
  const uint32_t special = a > 0x7f800000u ? 0x7fc00000u : 0x7f800000u;  // NaN; inf from 65520
  return bits_float(sign | (a >= 0x477ff000u ? special : a >= 0x38800000u ? normal : subnormal));
}

}  // namespace nabla::kernels
