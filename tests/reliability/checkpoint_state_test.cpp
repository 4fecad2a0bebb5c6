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
      {"epoch", NAN, nullptr, "'epoch' is nan, expected a whole number"},
      {"global_step", 1e300, nullptr, "'global_step' is 1e+300, expected a whole number"},
      {"seen", -1, nullptr, "'seen' is -1, expected a whole number"},
      {"skipped", 2.5, nullptr, "'skipped' is 2.5, expected a whole number"},
      {"loss_sum", NAN, nullptr, "'loss_sum' is nan, expected a finite number"},
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

// Every number the optimizer, scheduler and loader sections hold is checked as it is read back:
// a step of NaN, 1e300 or -5, a NaN learning rate or momentum, is a clear error naming the
// entry (a NaN Adam step used to be blamed on the learning rate, a NaN cosine step trained on
// at the wrong rate).
TEST(CheckpointState, CorruptedNumbersInEverySectionAreErrors) {
  nabla::testing::TempDir dir("nabla_ckpt_numbers");
  struct Setup {
    optim::OptimizerConfig optimizer;
    sched::SchedulerConfig scheduler;
    std::vector<std::pair<std::string, std::string>> entries;  // section, key
  };
  const std::vector<Setup> setups = {
      {optim::AdamConfig{},
       sched::CosineAnnealingLRConfig{.t_max = 3},
       {{"optimizer", "step"},
        {"optimizer", "num_groups"},
        {"optimizer", "group.0.lr"},
        {"optimizer", "group.0.weight_decay"},
        {"scheduler", "last_step"},
        {"scheduler", "lr.0"},
        {"scheduler", "base_lr.0"},
        {"loader", "epoch"},
        {"loader", "batch_index"}}},
      {optim::SGDConfig{.lr = 0.1, .momentum = 0.9},
       sched::ReduceLROnPlateauConfig{},
       {{"optimizer", "group.0.momentum"},
        {"scheduler", "num_bad_epochs"},
        {"scheduler", "cooldown_counter"},
        {"scheduler", "best.inf"}}},
      {optim::SWATSConfig{},
       sched::CosineAnnealingWarmRestartsConfig{.t_0 = 2},
       {{"optimizer", "group.0.swats_switched_at"},
        {"optimizer", "group.0.swats_lambda"},
        {"scheduler", "t_cur"},
        {"scheduler", "t_i"}}},
  };
  const data::TensorDataset data(Tensor::ones({8, 3}), Tensor::zeros({8}, {.dtype = DType::Int64}));
  for (const Setup& setup : setups) {
    train::TrainerConfig c{.epochs = 1, .batch_size = 4};
    c.progress = train::ProgressMode::Off;
    c.handle_signals = false;
    auto make = [&] {
      return std::make_unique<train::Trainer>(std::make_shared<nn::Linear>(3, 2), setup.optimizer,
                                              setup.scheduler, c);
    };
    const std::string good = (dir / "good.safetensors").string();
    {
      auto t = make();
      t->on_step_end = [&](const train::StepInfo& s) {
        if (s.batch == 0) t->save_checkpoint(good);  // mid-epoch: with a loader section
      };
      t->fit(data);
    }
    {  // A mid-epoch checkpoint without its data position cannot resume exactly.
      train::Checkpoint checkpoint = train::load_checkpoint(good);
      ASSERT_EQ(checkpoint.sections.erase("loader"), 1u);
      const std::string bad = (dir / "bad.safetensors").string();
      train::save_checkpoint(bad, checkpoint);
      expect_error([&] { make()->load_checkpoint(bad); },
                   "written in the middle of epoch 1 but has no loader state");
    }
    for (const auto& [section, key] : setup.entries) {
      // Counts must be whole numbers, rates and momenta finite and >= 0, the rest finite.
      const bool signed_value = key == "group.0.swats_lambda";
      const bool count = key.find("lr") == std::string::npos && !signed_value &&
                         key != "group.0.weight_decay" && key != "group.0.momentum";
      std::vector<double> bad_values = {NAN, count ? 1e300 : double{INFINITY}};
      if (!signed_value) bad_values.push_back(-5.0);
      for (double value : bad_values) {
        SCOPED_TRACE(section + "." + key + " = " + std::to_string(value));
        train::Checkpoint checkpoint = train::load_checkpoint(good);
        State& s = checkpoint.sections.at(section);
        ASSERT_TRUE(s.scalars.count(key)) << "no entry " << key;
        s.scalars[key] = value;
        const std::string bad = (dir / "bad.safetensors").string();
        train::save_checkpoint(bad, checkpoint);
        expect_error(
            [&] {
              auto t = make();
              t->load_checkpoint(bad);
              t->fit(data);  // the loader section is read here
            },
            "'" + key + "' is ");
      }
    }
  }
}

}  // namespace
