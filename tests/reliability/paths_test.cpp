// The file and folder edges: special files (a FIFO would block, a folder read as an empty
// file), checkpoint folders that cannot be written, odd step-file names, data whose splits
// disagree, and write errors. Each fails with a message naming the path, before the work where
// it can be known before.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "nabla/nabla.h"
#include "support/gradcheck.h"
#include "support/idx_writer.h"

using namespace nabla;
namespace fs = std::filesystem;
using nabla::testing::expect_error;
using nabla::testing::TempDir;

namespace {

std::shared_ptr<data::TensorDataset> toy(int64_t features = 3, int64_t n = 8) {
  return std::make_shared<data::TensorDataset>(Tensor::ones({n, features}),
                                               Tensor::zeros({n}, {.dtype = DType::Int64}));
}

// fit() with `edit` applied to a quiet one-epoch config; counts the steps that ran.
struct Fit {
  int64_t steps = 0;
  void operator()(void (*edit)(train::TrainerConfig&, const TempDir&), const TempDir& dir,
                  const data::Dataset* val = nullptr) {
    train::TrainerConfig c{.epochs = 1, .batch_size = 4};
    c.progress = train::ProgressMode::Off;
    c.handle_signals = false;
    edit(c, dir);
    train::Trainer trainer(std::make_shared<nn::Linear>(3, 2), optim::SGDConfig{},
                           sched::NoSchedulerConfig{}, c);
    trainer.on_step_end = [this](const train::StepInfo&) { ++steps; };
    trainer.fit(*toy(), val);
  }
};

data::TensorDataset ones_data() {
  return data::TensorDataset(Tensor::ones({8, 3}), Tensor::zeros({8}, {.dtype = DType::Int64}));
}

// Batches of 4 of ones_data (two steps an epoch), checkpointed into `dir`.
train::TrainerConfig quiet_config(int64_t epochs, const fs::path& dir) {
  train::TrainerConfig c{.epochs = epochs, .batch_size = 4};
  c.progress = train::ProgressMode::Off;
  c.handle_signals = false;
  c.checkpoint_dir = dir.string();
  return c;
}

train::Trainer make(train::TrainerConfig c) {
  return train::Trainer(std::make_shared<nn::Linear>(3, 2), optim::SGDConfig{.lr = 0.1},
                        sched::NoSchedulerConfig{}, c);
}

void make_fifo(const fs::path& path) {
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
}

TEST(Paths, CheckpointFoldersThatCannotBeWrittenFailBeforeTheFirstStep) {
  using C = train::TrainerConfig;
  struct Case {
    void (*edit)(C&, const TempDir&);
    const char* message;
  };
  const Case cases[] = {
      {[](C& c, const TempDir& d) {
         std::ofstream(d / "file") << "x";
         c.checkpoint_dir = (d / "file").string();
       },
       "checkpoint folder '"},
      {[](C& c, const TempDir& d) {
         std::ofstream(d / "file") << "x";
         c.checkpoint_dir = (d / "file" / "run").string();
       },
       "cannot be created"},
      {[](C& c, const TempDir& d) {
         fs::create_directories(d / "run" / "latest");
         c.checkpoint_dir = (d / "run").string();
       },
       "latest' is a folder, expected a regular file"},
      {[](C& c, const TempDir& d) {
         fs::create_directories(d / "run");
         std::ofstream(d / "run" / "step-99999999999999999999.safetensors") << "x";
         c.checkpoint_dir = (d / "run").string();
       },
       "step-99999999999999999999.safetensors', whose step number does not fit 64 bits"},
      {[](C& c, const TempDir& d) {
         make_fifo(d / "metrics.jsonl");
         c.metrics_path = (d / "metrics.jsonl").string();
       },
       "metrics file '"},
      {[](C& c, const TempDir& d) { c.metrics_path = d.path().string(); }, "is a folder"},
      {[](C& c, const TempDir& d) { c.metrics_path = (d / "no" / "m.jsonl").string(); },
       "does not exist"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    TempDir dir;
    Fit fit;
    expect_error([&] { fit(c.edit, dir); }, c.message);
    EXPECT_EQ(fit.steps, 0);
  }
}

TEST(Paths, AFifoIsRefusedNotWaitedOn) {
  TempDir dir;
  make_fifo(dir / "pipe");
  expect_error([&] { train::load_checkpoint((dir / "pipe").string()); },
               "safetensors file '" + (dir / "pipe").string() + "' is a FIFO");
  expect_error(
      [&] {
        train::RunOptions o;
        train::CommandLine cli("prog", "");
        cli.add_training_options(o);
        cli.apply_config_file((dir / "pipe").string());
      },
      "config file '" + (dir / "pipe").string() + "' is a FIFO");
  expect_error(
      [&] {
        train::RunOptions o;
        train::CommandLine cli("prog", "");
        cli.add_training_options(o);
        cli.apply_config_file(dir.path().string());
      },
      "is a folder, expected a regular file");
  expect_error([&] { train::resolve_checkpoint((dir / "pipe").string()); }, "is a FIFO");
}

TEST(Paths, EvaluationDataOfAnotherShapeFailsBeforeTheFirstStep) {
  TempDir dir;
  Fit fit;
  const auto other = toy(5);
  expect_error([&] { fit([](train::TrainerConfig&, const TempDir&) {}, dir, other.get()); },
               "the evaluation samples are [5] float32, the training samples [3] float32");
  EXPECT_EQ(fit.steps, 0);
}

// A metrics line that cannot be written (here the full device) is an error, not an empty file.
TEST(Paths, WriteErrorsAreErrors) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir dir;
  Fit fit;
  expect_error(
      [&] {
        fit([](train::TrainerConfig& c, const TempDir&) { c.metrics_path = "/dev/full"; }, dir);
      },
      "cannot write the metrics file '/dev/full'");
}

// The newest checkpoint is damaged, older intact ones sit beside it: a folder resumes from the
// newest intact one and says so; the damaged file named directly is an error naming that one.
TEST(Paths, RecoveryFromADamagedNewestCheckpoint) {
  TempDir dir;
  const data::TensorDataset data = ones_data();
  auto config = [&](int64_t epochs) { return quiet_config(epochs, dir.path()); };
  make(config(3)).fit(data);  // steps 2, 4, 6
  const fs::path newest = dir / train::checkpoint_filename(6);
  fs::resize_file(newest, fs::file_size(newest) / 2);

  train::TrainerConfig by_file = config(3);
  by_file.resume = newest.string();
  expect_error([&] { make(by_file); }, "The newest intact checkpoint beside it is '" +
                                           (dir / train::checkpoint_filename(4)).string() + "'");

  train::TrainerConfig by_folder = config(3);
  by_folder.resume = dir.path().string();
  ::testing::internal::CaptureStdout();
  train::Trainer resumed = make(by_folder);
  const std::string said = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(resumed.global_step(), 4);
  EXPECT_NE(said.find("passed over a damaged checkpoint: '" + newest.string()), std::string::npos)
      << said;
  EXPECT_NE(said.find("resumed from " + (dir / train::checkpoint_filename(4)).string()),
            std::string::npos)
      << said;
  fs::resize_file(dir / train::checkpoint_filename(4), 10);
  fs::resize_file(dir / train::checkpoint_filename(2), 10);
  expect_error([&] { make(by_folder); }, "no checkpoint there reads whole");
}

// A run owns its checkpoint folder: a second writer is refused while the first runs, a fresh
// run does not overwrite another run's checkpoints, and a branch (a resume from an older
// checkpoint) does not replace the later ones of the run it came from, unless asked to.
TEST(Paths, ARunOwnsItsCheckpointFolder) {
  TempDir dir;
  const data::TensorDataset data = ones_data();
  auto config = [&](int64_t epochs) { return quiet_config(epochs, dir / "run"); };
  auto steps_in = [&](const fs::path& folder) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(folder))
      if (e.path().extension() == ".safetensors") names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  };
  const std::vector<std::string> original = {"step-000002.safetensors", "step-000004.safetensors",
                                             "step-000006.safetensors"};
  {  // A second writer while the first runs.
    train::Trainer first = make(config(3));
    first.on_step_end = [&](const train::StepInfo& s) {
      if (s.step != 3) return;
      train::TrainerConfig other = config(1);
      other.overwrite = true;
      expect_error([&] { make(other).fit(data); }, "is in use by another run (pid ");
    };
    first.fit(data);
  }
  EXPECT_EQ(steps_in(dir / "run"), original);

  expect_error([&] { make(config(1)).fit(data); }, "they belong to another run");
  EXPECT_EQ(steps_in(dir / "run"), original);

  train::TrainerConfig branch = config(3);
  branch.resume = (dir / "run" / original[1]).string();
  expect_error([&] { make(branch).fit(data); }, "they come after step 4, where this run resumed");
  EXPECT_EQ(steps_in(dir / "run"), original);
  branch.checkpoint_dir = (dir / "branch").string();  // a folder of its own: both kept
  make(branch).fit(data);
  EXPECT_EQ(steps_in(dir / "run"), original);
  EXPECT_EQ(steps_in(dir / "branch"), std::vector<std::string>{"step-000006.safetensors"});

  train::TrainerConfig fresh = config(1);
  fresh.overwrite = true;
  make(fresh).fit(data);
  EXPECT_EQ(steps_in(dir / "run"), std::vector<std::string>{"step-000002.safetensors"});
  // Resuming the folder's own newest checkpoint continues it, as before.
  train::TrainerConfig more = config(2);
  more.resume = (dir / "run").string();
  make(more).fit(data);
  EXPECT_EQ(steps_in(dir / "run"),
            (std::vector<std::string>{"step-000002.safetensors", "step-000004.safetensors"}));
}

// Clearing a checkpoint folder removes what nabla wrote there and nothing else.
TEST(Paths, RemoveCheckpointsKeepsWhatNablaDidNotWrite) {
  TempDir dir;
  train::Checkpoint checkpoint;
  for (int64_t step : {5, 10}) train::write_checkpoint_in(dir.path().string(), step, checkpoint, 0);
  std::ofstream(dir / "notes.txt") << "mine";
  std::ofstream(dir / "step-7.safetensors.bak") << "mine";
  fs::create_directories(dir / "data");
  train::remove_checkpoints(dir.path().string());
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir.path())) left.push_back(e.path().filename());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"data", "notes.txt", "step-7.safetensors.bak"}));
}

}  // namespace
