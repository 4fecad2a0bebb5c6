// A random number generator with saveable state: Philox4x32-10 keyed by a seed, plus an offset
// that each draw advances. Every random tensor (init, dropout, shuffling) draws from one, so a
// saved (seed, offset) pair reproduces everything that follows.
#pragma once

#include <cstdint>

namespace nabla {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x6e61626c61ULL) : seed_(seed) {}

  struct State {
    uint64_t seed = 0;
    uint64_t offset = 0;
    bool operator==(const State&) const = default;
  };

  void manual_seed(uint64_t seed) { seed_ = seed, offset_ = 0; }
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  State state() const { return {seed_, offset_}; }
  void set_state(const State& s) { seed_ = s.seed, offset_ = s.offset; }

  // Reserves the counter blocks for n numbers and returns the offset to draw them at.
  uint64_t reserve(uint64_t n);

  // Single draws (each consumes one block of four words), for host-side sampling.
  double uniform();                   // [0, 1)
  uint64_t random_below(uint64_t n);  // uniform in [0, n), n > 0

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The generator used when none is passed.
Generator& default_generator();
// Seeds the default generator (as torch.manual_seed).
void manual_seed(uint64_t seed);

}  // namespace nabla
