// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011).
// Counter-based: the numbers for element i depend only on (seed, offset, i), so the CPU and the
// GPU draw the same values in any order and with any number of threads.
#pragma once

#include <math.h>

#include <cstdint>

#include "kernels/math/hd.h"

namespace nabla::random {

struct Philox4 {
  uint32_t v[4];
};

NABLA_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// Ten rounds over counter `ctr` with key `key`.
NABLA_HD Philox4 philox4x32(Philox4 ctr, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kMul0, ctr.v[0], hi0, lo0);
    philox_mulhilo(kMul1, ctr.v[2], hi1, lo1);
    ctr = Philox4{{hi1 ^ ctr.v[1] ^ key0, lo1, hi0 ^ ctr.v[3] ^ key1, lo0}};
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return ctr;
}

// The four 32-bit words of block `block` of the stream (seed, offset).
NABLA_HD Philox4 philox_block(uint64_t seed, uint64_t offset, uint64_t block) {
  const uint64_t c = offset + block;
  Philox4 ctr{{static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32), 0u, 0u}};
  return philox4x32(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Uniform in [0, 1) with 24 random bits (every value exactly representable in float).
NABLA_HD float uniform_from_bits(uint32_t x) {
  return static_cast<float>(x >> 8) * 0x1p-24f;
}

// Element i of a uniform [0, 1) stream: lane i % 4 of block i / 4.
NABLA_HD float philox_uniform(uint64_t seed, uint64_t offset, uint64_t i) {
  const Philox4 r = philox_block(seed, offset, i / 4);
  return uniform_from_bits(r.v[i % 4]);
}

// Element i of a standard normal stream (Box-Muller on lanes (0,1) and (2,3) of block i / 4).
NABLA_HD float philox_normal(uint64_t seed, uint64_t offset, uint64_t i) {
  const Philox4 r = philox_block(seed, offset, i / 4);
  const unsigned lane = static_cast<unsigned>(i % 4);
  const unsigned pair = lane & ~1u;
  // u1 in (0, 1] keeps log() finite.
  const float u1 = static_cast<float>((r.v[pair] >> 8) + 1u) * 0x1p-24f;
  const float u2 = uniform_from_bits(r.v[pair + 1]);
  const float radius = sqrtf(-2.0f * logf(u1));
  const float angle = 6.2831853071795864f * u2;
  return (lane & 1u) ? radius * sinf(angle) : radius * cosf(angle);
}

// How many blocks a draw of n numbers consumes (the generator's offset advances by this).
NABLA_HD uint64_t philox_blocks_for(uint64_t n) {
  return (n + 3) / 4;
}

}  // namespace nabla::random
