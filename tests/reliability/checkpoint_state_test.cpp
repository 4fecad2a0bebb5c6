// A checkpoint whose file is intact but whose trainer state is not (hand-edited, or written by
// something else) is refused with a nabla::Error naming the entry, never undefined behaviour or
// a stray std::invalid_argument.
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/nabla.h"
#include "support/gradcheck.h"
#include "support/idx_writer.h"

using namespace nabla;
using nabla::testing::expect_error;

namespace {

std::unique_ptr<train::Trainer> trainer() {
  train::TrainerConfig c;
  c.progress = train::ProgressMode::Off;
  c.handle_signals = false;
  return std::make_unique<train::Trainer>(std::make_shared<nn::Linear>(3, 2), optim::SGDConfig{},
                                          sched::NoSchedulerConfig{}, c);
}

TEST(CheckpointState, CorruptedTrainerEntriesAreErrors) {
  nabla::testing::TempDir dir("nabla_ckpt_state");
  const std::string good = (dir / "good.safetensors").string();
  trainer()->save_checkpoint(good);

  struct Case {
    const char* key;
    double scalar;  // used when text is null
    const char* text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"epoch", NAN, nullptr, "'epoch' is nan, expected a count"},
      {"global_step", 1e300, nullptr, "'global_step' is 1e+300, expected a count"},
      {"seen", -1, nullptr, "'seen' is -1, expected a count"},
      {"skipped", 2.5, nullptr, "'skipped' is 2.5, expected a count"},
      {"rng_seed", 0, "x", "'rng_seed' is 'x', expected an unsigned integer"},
      {"rng_offset", 0, "12abc", "'rng_offset' is '12abc', expected an unsigned integer"},
      {"rng_seed", 0, "-1", "'rng_seed' is '-1'"},
      {"rng_offset", 0, "99999999999999999999999", "expected an unsigned integer"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    train::Checkpoint checkpoint = train::load_checkpoint(good);
    State& s = checkpoint.sections.at("trainer");
    if (c.text)
      s.strings[c.key] = c.text;
    else
      s.scalars[c.key] = c.scalar;
    const std::string bad = (dir / "bad.safetensors").string();
    train::save_checkpoint(bad, checkpoint);
    expect_error([&] { trainer()->load_checkpoint(bad); }, c.message);
  }
  EXPECT_NO_THROW(trainer()->load_checkpoint(good));
}

}  // namespace
