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

#include "kernels/common/hd.h"

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

// The float16 bit pattern nearest to x (ties to even).
NABLA_HD uint16_t float_to_fp16_bits(float x) {
  const uint32_t u = float_bits(x);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t a = u & 0x7fffffffu;
  if (a >= 0x7f800000u) return static_cast<uint16_t>(sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520: infinity
  if (a >= 0x38800000u) {  // a normal float16: move the exponent bias from 127 to 15
    const uint32_t r = a + 0xfffu + ((a >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((r - (112u << 23)) >> 13));
  }
  if (a <= 0x33000000u) return static_cast<uint16_t>(sign);  // <= 2^-25: zero
  // A subnormal float16: the value in units of 2^-24 is the 24-bit significand shifted right.
  const uint32_t exponent = a >> 23, significand = (a & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - exponent;  // 14 .. 24
  const uint32_t kept = significand >> shift, dropped = significand & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  const uint32_t up = dropped > half || (dropped == half && (kept & 1u));
  return static_cast<uint16_t>(sign | (kept + up));  // a carry into 0x400 is the least normal
}

NABLA_HD float fp16_bits_to_float(uint16_t h) {
  const uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float32
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return bits_float(sign | float_bits(magnitude));
  }
  if (exponent == 31) return bits_float(sign | 0x7f800000u | (mantissa << 13));
  return bits_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

NABLA_HD float round_to_fp16(float x) {
  return fp16_bits_to_float(float_to_fp16_bits(x));
}

}  // namespace nabla::kernels
