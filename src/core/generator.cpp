#include "nabla/generator.h"

#include "kernels/math/philox.h"
#include "nabla/error.h"

namespace nabla {

uint64_t Generator::reserve(uint64_t n) {
  const uint64_t at = offset_;
  offset_ += random::philox_blocks_for(n);
  return at;
}

double Generator::uniform() {
  const random::Philox4 r = random::philox_block(seed_, reserve(4), 0);
  // 53 random bits from two words.
  const uint64_t bits = (static_cast<uint64_t>(r.v[0]) << 21) ^ (r.v[1] >> 11);
  return static_cast<double>(bits & ((1ULL << 53) - 1)) * 0x1p-53;
}

uint64_t Generator::random_below(uint64_t n) {
  NABLA_CHECK(n > 0, "Generator::random_below: n must be positive");
  // Lemire's multiply-shift on 64 random bits; the bias is below 2^-32 for n < 2^32.
  const random::Philox4 r = random::philox_block(seed_, reserve(4), 0);
  const uint64_t bits = (static_cast<uint64_t>(r.v[0]) << 32) | r.v[1];
  return static_cast<uint64_t>((static_cast<unsigned __int128>(bits) * n) >> 64);
}

Generator& default_generator() {
  static Generator generator;
  return generator;
}

void manual_seed(uint64_t seed) {
  default_generator().manual_seed(seed);
}

}  // namespace nabla
