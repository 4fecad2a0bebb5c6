// Trainer: learning, exact resume (epoch boundary and mid-epoch), crash safety, loading errors.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nabla/nabla.h"
#include "support/gradcheck.h"
#include "support/toy_mnist.h"
#include "support/toy_training.h"

using namespace nabla;
using nabla::testing::flat_params;
using nabla::testing::quiet;
using nabla::testing::toy_classes;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("nabla_trainer_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::shared_ptr<nn::Sequential> toy_model(uint64_t seed = 3) {
  Generator gen(seed);
  return std::make_shared<nn::Sequential>(nn::Linear(8, 16, true, &gen), nn::ReLU(),
                                          nn::Dropout(0.1), nn::Linear(16, 4, true, &gen));
}

struct TrainingSetup {
  std::string name;
  optim::OptimizerConfig optimizer;
  sched::SchedulerConfig scheduler;
};

std::vector<TrainingSetup> setups() {
  return {
      {"sgd_momentum", optim::SGDConfig{.lr = 0.1, .momentum = 0.9}, sched::NoSchedulerConfig{}},
      {"adam_step", optim::AdamConfig{.lr = 1e-2},
       sched::StepLRConfig{.step_size = 1, .gamma = 0.5}},
      {"sgd_cosine_iter", optim::SGDConfig{.lr = 0.05, .momentum = 0.5, .nesterov = true},
       sched::CosineAnnealingLRConfig{.t_max = 7, .unit = sched::StepUnit::Iteration}},
      // Per-weight step sizes and kept gradients, saved in the checkpoint file.
      {"rprop", optim::RpropConfig{.lr = 1e-3, .step_sizes = {1e-6, 0.05}},
       sched::NoSchedulerConfig{}},
  };
}

}  // namespace

TEST(Trainer, LearnsAToyProblem) {
  auto data = toy_classes(1, 256);
  train::Trainer trainer(toy_model(), optim::AdamConfig{.lr = 1e-2}, sched::NoSchedulerConfig{},
                         quiet({.epochs = 15, .batch_size = 32, .seed = 1}));
  const train::History h = trainer.fit(*data, data.get());
  ASSERT_EQ(h.epochs.size(), 15u);
  EXPECT_LT(h.epochs.back().train_loss, 0.5 * h.epochs.front().train_loss);
  EXPECT_GT(*h.epochs.back().test_accuracy, 0.85);
  EXPECT_EQ(h.epochs.back().step, 15 * 8);
}

// Training N steps straight, and training k steps, stopping, and resuming for N - k, give
// bit-identical parameters and metrics (k mid-epoch and at an epoch boundary).
TEST(Trainer, ResumesExactly) {
  auto data = toy_classes(2);  // 6 batches of 16 per epoch
  for (const TrainingSetup& s : setups()) {
    SCOPED_TRACE(s.name);
    const fs::path dir = fresh_dir("resume_" + s.name);
    train::TrainerConfig config = quiet({.epochs = 3,
                                         .batch_size = 16,
                                         .seed = 11,
                                         .checkpoint_dir = dir.string(),
                                         .checkpoint_every = 4,
                                         .keep_last = 0});
    auto straight_model = toy_model();
    train::Trainer straight(straight_model, s.optimizer, s.scheduler, config);
    const train::History full = straight.fit(*data, data.get());
    ASSERT_EQ(full.epochs.size(), 3u);
    const std::vector<float> expected = flat_params(*straight_model);

    for (int64_t k : {4, 6, 16}) {  // mid-epoch 1, end of epoch 1, mid-epoch 3
      SCOPED_TRACE(k);
      train::TrainerConfig resumed_config = config;
      resumed_config.checkpoint_dir = (dir / ("resumed_" + std::to_string(k))).string();
      resumed_config.resume = (dir / train::checkpoint_filename(k)).string();
      auto model = toy_model(99);  // other initial weights: the checkpoint must replace them
      train::Trainer resumed(model, s.optimizer, s.scheduler, resumed_config);
      EXPECT_EQ(resumed.global_step(), k);
      const train::History rest = resumed.fit(*data, data.get());
      EXPECT_EQ(flat_params(*model), expected);
      ASSERT_FALSE(rest.epochs.empty());
      const size_t offset = full.epochs.size() - rest.epochs.size();
      for (size_t i = 0; i < rest.epochs.size(); ++i) {
        const auto &a = full.epochs[offset + i], &b = rest.epochs[i];
        EXPECT_EQ(a.epoch, b.epoch);
        EXPECT_EQ(a.step, b.step);
        EXPECT_EQ(a.lr, b.lr);
        EXPECT_EQ(a.train_loss, b.train_loss);
        EXPECT_EQ(a.train_accuracy, b.train_accuracy);
        EXPECT_EQ(a.test_loss, b.test_loss);
      }
    }
  }
}

TEST(Trainer, FolderResumeUsesLatestAndPrunes) {
  auto data = toy_classes(3);
  const fs::path dir = fresh_dir("latest");
  auto config = quiet({.epochs = 2,
                       .batch_size = 16,
                       .checkpoint_dir = dir.string(),
                       .checkpoint_every = 1,
                       .keep_last = 2});
  train::Trainer(toy_model(), optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{}, config)
      .fit(*data);
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.path().extension() == ".safetensors";
  EXPECT_EQ(files, 2);
  EXPECT_EQ(train::resolve_checkpoint(dir.string()), (dir / "step-000012.safetensors").string());
  // --epochs is the total: a finished run resumed with more epochs trains only the new ones.
  config.resume = dir.string();
  config.epochs = 3;
  train::Trainer more(toy_model(), optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{}, config);
  const auto h = more.fit(*data);
  ASSERT_EQ(h.epochs.size(), 1u);
  EXPECT_EQ(h.epochs[0].epoch, 3);
}

TEST(Trainer, CheckpointWritesRemoveTheTemporariesOfKilledWriters) {
  auto data = toy_classes(1);
  const fs::path dir = fresh_dir("abandoned");
  fs::create_directories(dir);
  // A writer that no longer exists (no process has this id) and one that still runs.
  const fs::path dead = dir / ".step-000003.safetensors.tmp.999999999.0";
  const fs::path alive = dir / fmt::format(".step-000004.safetensors.tmp.{}.0", ::getppid());
  std::ofstream(dead) << "torn";
  std::ofstream(alive) << "in progress";
  train::Trainer(toy_model(), optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{},
                 quiet({.epochs = 1, .batch_size = 16, .checkpoint_dir = dir.string()}))
      .fit(*data);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(alive));
  // A run that resumes with nothing left to do writes no checkpoint, and still clears them.
  const fs::path torn_pointer = dir / ".latest.tmp.999999999.7";
  std::ofstream(torn_pointer) << "step-0000";
  const train::History nothing =
      train::Trainer(toy_model(), optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{},
                     quiet({.epochs = 1,
                            .batch_size = 16,
                            .checkpoint_dir = dir.string(),
                            .resume = dir.string()}))
          .fit(*data);
  EXPECT_TRUE(nothing.epochs.empty());
  EXPECT_FALSE(fs::exists(torn_pointer));
  EXPECT_TRUE(fs::exists(alive));
}

TEST(Trainer, CudaGraphNeedsACudaDevice) {
  nabla::testing::expect_error(
      [] {
        train::Trainer(toy_model(), optim::SGDConfig{}, sched::NoSchedulerConfig{},
                       quiet({.cuda_graph = true}));
      },
      "cuda_graph needs a CUDA device");
}

TEST(Trainer, ValidateChecksTheConfigAlone) {
  EXPECT_NO_THROW(train::validate(train::TrainerConfig{}));
  nabla::testing::expect_error([] { train::validate({.batch_size = 0}); },
                               "TrainerConfig: invalid batch_size 0 (must be >= 1)");
  nabla::testing::expect_error([] { train::validate({.checkpoint_every = 10}); },
                               "TrainerConfig.checkpoint_every needs a checkpoint_dir");
  EXPECT_THROW(train::validate({.precision = Precision::fp16, .loss_scale = 0.0}), Error);
}

TEST(Trainer, CrashWhileCheckpointingKeepsThePreviousOne) {
  auto data = toy_classes(4);
  const fs::path dir = fresh_dir("crash");
  auto config = quiet({.epochs = 1,
                       .batch_size = 16,
                       .checkpoint_dir = dir.string(),
                       .checkpoint_every = 2,
                       .keep_last = 0});
  train::Trainer trainer(toy_model(), optim::AdamConfig{}, sched::NoSchedulerConfig{}, config);
  int step_ends = 0;
  trainer.on_step_end = [&](const train::StepInfo& s) {
    if (++step_ends == 3) io::testing::fail_next_write_after(100);  // the write at step 4 dies
  };
  EXPECT_THROW(trainer.fit(*data), Error);
  EXPECT_EQ(train::resolve_checkpoint(dir.string()), (dir / "step-000002.safetensors").string());
  config.resume = dir.string();
  train::Trainer resumed(toy_model(), optim::AdamConfig{}, sched::NoSchedulerConfig{}, config);
  EXPECT_EQ(resumed.global_step(), 2);
}

TEST(Trainer, LoadingErrorsAreClear) {
  auto data = toy_classes(5);
  const fs::path dir = fresh_dir("errors");
  const fs::path good = dir / "good.safetensors";
  train::Trainer trainer(toy_model(), optim::SGDConfig{.lr = 0.1, .momentum = 0.9},
                         sched::NoSchedulerConfig{}, quiet({.epochs = 1, .batch_size = 32}));
  trainer.fit(*data);
  trainer.save_checkpoint(good.string());
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});

  auto write = [&](const std::string& name, const std::string& contents) {
    std::ofstream(dir / name, std::ios::binary) << contents;
    return (dir / name).string();
  };
  std::string corrupted = bytes;
  corrupted[corrupted.size() - 3] ^= 0x10;
  // A newer format version: the same contents written again as version 9 (an edit of the
  // bytes would fail the header's checksum instead).
  io::SafetensorsContents newer = io::load_safetensors(good.string());
  newer.metadata["nabla.version"] = "9";
  io::save_safetensors((dir / "v.safetensors").string(), newer.tensors, newer.metadata);

  auto other_arch =
      std::make_shared<nn::Sequential>(nn::Linear(8, 32), nn::ReLU(), nn::Linear(32, 4));
  struct Case {
    std::string name;
    std::function<void()> load;
    std::string expected;
  };
  auto load_into_fresh = [&](const std::string& path) {
    return [path] {
      train::Trainer t(toy_model(), optim::SGDConfig{.lr = 0.1, .momentum = 0.9},
                       sched::NoSchedulerConfig{}, quiet({}));
      t.load_checkpoint(path);
    };
  };
  const std::vector<Case> cases = {
      {"missing", load_into_fresh((dir / "nope.safetensors").string()), "no such file"},
      {"truncated", load_into_fresh(write("t.safetensors", bytes.substr(0, bytes.size() / 2))),
       "truncated"},
      {"corrupted", load_into_fresh(write("c.safetensors", corrupted)), "corrupted"},
      {"newer_version", load_into_fresh((dir / "v.safetensors").string()), "newer than this nabla"},
      {"other_architecture",
       [&] {
         train::Trainer t(other_arch, optim::SGDConfig{.lr = 0.1, .momentum = 0.9},
                          sched::NoSchedulerConfig{}, quiet({}));
         t.load_checkpoint(good.string());
       },
       "another architecture"},
      {"other_optimizer",
       [&] {
         train::Trainer t(toy_model(), optim::AdamConfig{}, sched::NoSchedulerConfig{}, quiet({}));
         t.load_checkpoint(good.string());
       },
       "SGD optimizer"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    nabla::testing::expect_error(c.load, c.expected);
  }
}

// Any safetensors reader finds the model under "model.<name>" with the right values.
TEST(Trainer, CheckpointIsPlainSafetensors) {
  const fs::path file = fresh_dir("plain") / "c.safetensors";
  auto model = toy_model();
  train::Trainer trainer(model, optim::SGDConfig{}, sched::NoSchedulerConfig{}, quiet({}));
  trainer.save_checkpoint(file.string());
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  const auto& w = header.at("model.0.weight");
  EXPECT_EQ(w.at("shape"), nlohmann::json({16, 8}));
  const uint64_t begin = w.at("data_offsets")[0];
  float first;
  std::memcpy(&first, bytes.data() + 8 + n + begin, 4);
  EXPECT_EQ(first, model->named_parameters()[0].second.to_vector<float>()[0]);
}

TEST(Trainer, WeightsRoundTrip) {
  const fs::path file = fresh_dir("weights") / "w.safetensors";
  auto a = toy_model(1), b = toy_model(2);
  train::save_weights(*a, file.string());
  train::load_weights(*b, file.string());
  EXPECT_EQ(flat_params(*a), flat_params(*b));
  auto other = std::make_shared<nn::Sequential>(nn::Linear(8, 5));
  nabla::testing::expect_error([&] { train::load_weights(*other, file.string()); }, "0.weight");
}

TEST(Trainer, SkipsNonFiniteUpdatesAndStopsWhenTheyPersist) {
  auto data = toy_classes(6);
  train::Trainer trainer(toy_model(), optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{},
                         quiet({.epochs = 1, .batch_size = 16, .max_consecutive_skips = 2}));
  int calls = 0;
  trainer.set_loss([&](const Tensor& out, const Tensor& y) {
    const Tensor loss = nn::functional::cross_entropy(out, y);
    return ++calls == 2 ? loss * NAN : loss;  // one bad batch
  });
  const auto h = trainer.fit(*data);
  EXPECT_EQ(h.epochs[0].skipped_steps, 1);
  EXPECT_EQ(h.epochs[0].step, 5);
  trainer.set_loss([](const Tensor& out, const Tensor&) { return out.sum() * INFINITY; });
  nabla::testing::expect_error(
      [&] {
        train::Trainer t(toy_model(), optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{},
                         quiet({.epochs = 1, .batch_size = 16, .max_consecutive_skips = 2}));
        t.set_loss([](const Tensor& out, const Tensor&) { return out.sum() * INFINITY; });
        t.fit(*data);
      },
      "diverged");
}

namespace {
// Toy data that names itself, as MNIST does by its digests and normalisation.
class IdentifiedData : public data::TensorDataset {
 public:
  IdentifiedData(const data::TensorDataset& base, std::string identity)
      : data::TensorDataset(base), identity_(std::move(identity)) {}
  std::string identity() const override { return identity_; }

 private:
  std::string identity_;
};

std::string toy_identity(const std::string& name, double mean) {
  return nlohmann::json{{"dataset", name},
                        {"split", "train"},
                        {"images_sha256", name + "-digest"},
                        {"normalize", {{"mean", mean}, {"std", 0.5}}}}
      .dump();
}
}  // namespace

// A checkpoint says what it was trained on and what the model is, so that its file alone is
// enough to evaluate it; a resume on other data, or the same data normalised otherwise, fails.
TEST(Trainer, CheckpointsRecordTheDataAndTheModelAndResumeChecksTheData) {
  const fs::path dir = fresh_dir("identity");
  const IdentifiedData data(*toy_classes(2), toy_identity("toy", 0.25));
  auto model = toy_model();
  train::TrainerConfig config = quiet({.epochs = 1, .batch_size = 32});
  config.checkpoint_dir = dir.string();
  train::Trainer(model, optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{}, config).fit(data);

  const std::string file = train::resolve_checkpoint(dir.string());
  const train::Checkpoint checkpoint = train::load_checkpoint(file);
  EXPECT_EQ(checkpoint.data_json, data.identity());
  EXPECT_EQ(checkpoint.model_text, model->str());
  EXPECT_NE(checkpoint.model_text.find("Linear(in_features=8, out_features=16"), std::string::npos)
      << checkpoint.model_text;

  config.epochs = 2;
  config.resume = dir.string();
  for (const auto& [other, expected] :
       {std::pair{toy_identity("other", 0.25), "this run's training set is other"},
        std::pair{toy_identity("toy", 0.5), "normalised with mean 0.5000"}}) {
    SCOPED_TRACE(other);
    const IdentifiedData changed(*toy_classes(2), other);
    train::Trainer resumed(toy_model(), optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{},
                           config);
    nabla::testing::expect_error([&] { resumed.fit(changed); }, expected);
    nabla::testing::expect_error([&] { resumed.fit(changed); }, "was trained on toy");
  }
  train::Trainer same(toy_model(), optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{}, config);
  EXPECT_EQ(same.fit(data).epochs.size(), 1u);
}

// The same with MNIST-format folders: data known by its digests.
TEST(Trainer, ResumingOnOtherMnistDataIsAnError) {
  const fs::path dir = fresh_dir("mnist_identity");
  nabla::testing::write_toy_mnist(dir / "a", 64, 32, 1);
  nabla::testing::write_toy_mnist(dir / "b", 64, 32, 2);
  auto model = std::make_shared<nn::Sequential>(nn::Flatten(), nn::Linear(784, 10));
  train::TrainerConfig config = quiet({.epochs = 1, .batch_size = 32});
  config.checkpoint_dir = (dir / "run").string();
  const data::MnistData a = data::load_mnist((dir / "a").string());
  train::Trainer(model, optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{}, config)
      .fit(a.train);
  config.epochs = 2;
  config.resume = config.checkpoint_dir;
  const data::MnistData b = data::load_mnist((dir / "b").string());
  train::Trainer resumed(model, optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{}, config);
  nabla::testing::expect_error([&] { resumed.fit(b.train); },
                               b.train.images_sha256().substr(0, 16));
}

// Weights from another program come in through import_weights; load_weights wants nabla's.
TEST(Trainer, ForeignWeightsNeedImportWeights) {
  const fs::path dir = fresh_dir("foreign");
  auto a = toy_model(1), b = toy_model(2);
  train::save_weights(*a, (dir / "w.safetensors").string());
  // The same tensors as a foreign writer leaves them: no nabla metadata at all.
  const io::SafetensorsContents ours = io::load_safetensors((dir / "w.safetensors").string());
  const std::string foreign = (dir / "foreign.safetensors").string();
  {
    // io::save_safetensors always adds its checksums; strip them as another writer would not
    // have them, by writing the header by hand.
    nlohmann::json header = nlohmann::json::object();
    std::string data;
    for (const auto& [name, t] : ours.tensors) {
      header[name] = {{"dtype", "F32"},
                      {"shape", t.shape().dims},
                      {"data_offsets", {data.size(), data.size() + 4 * t.numel()}}};
      data.append(static_cast<const char*>(t.raw_data()), 4 * t.numel());
    }
    std::string text = header.dump();
    std::string len(8, '\0');
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>(text.size() >> (8 * i));
    std::ofstream(foreign, std::ios::binary) << len << text << data;
  }
  nabla::testing::expect_error([&] { train::load_weights(*b, foreign); }, "import_weights()");
  train::import_weights(*b, foreign);
  EXPECT_EQ(flat_params(*a), flat_params(*b));

  // The same weights under DistributedDataParallel's "module." prefix, one of them renamed.
  io::TensorMap prefixed;
  std::string first;
  for (const auto& [name, t] : ours.tensors) {
    if (first.empty()) first = name;
    prefixed[(name == first ? "module.renamed" : "module." + name)] = t;
  }
  const std::string ddp = (dir / "ddp.safetensors").string();
  io::save_safetensors(ddp, prefixed);
  auto c = toy_model(3);
  nabla::testing::expect_error([&] { train::import_weights(*c, ddp); }, "module.");
  train::import_weights(*c, ddp, {.strip_prefix = "module.", .rename = {{"renamed", first}}});
  EXPECT_EQ(flat_params(*a), flat_params(*c));
  nabla::testing::expect_error(
      [&] {
        train::import_weights(*c, ddp, {.strip_prefix = "module.", .rename = {{"renamed", "x"}}});
      },
      "x");
}

// TrainerConfig.data_on_device changes where batches are gathered, not which: the same run.
TEST(Trainer, DataOnDeviceIsTheSameRun) {
  auto data = toy_classes(4, 200);
  auto run = [&](bool on_device) {
    auto model = toy_model();
    train::Trainer t(
        model, optim::SGDConfig{.lr = 0.1, .momentum = 0.9}, sched::NoSchedulerConfig{},
        quiet({.epochs = 2, .batch_size = 16, .seed = 7, .data_on_device = on_device}));
    const train::History h = t.fit(*data, data.get());
    return std::make_pair(flat_params(*model), h.epochs.back().train_loss);
  };
  EXPECT_EQ(run(true), run(false));
}

// ---------------------------------------------------------------- mixed precision

// bf16 learns as float32 does, on other numbers; a bf16 run resumes bit for bit, mid-epoch too,
// and its checkpoint (float32 master weights) continues in float32.
TEST(Trainer, Bf16LearnsResumesExactlyAndContinuesInFp32) {
  auto data = toy_classes(1, 256);
  auto fit_with = [&](Precision p, std::shared_ptr<nn::Sequential> model) {
    train::Trainer t(model, optim::AdamConfig{.lr = 1e-2}, sched::NoSchedulerConfig{},
                     quiet({.epochs = 15, .batch_size = 32, .seed = 1, .precision = p}));
    return t.fit(*data, data.get()).epochs.back();
  };
  auto fp32_model = toy_model(), bf16_model = toy_model();
  const train::EpochMetrics fp32 = fit_with(Precision::fp32, fp32_model);
  const train::EpochMetrics bf16 = fit_with(Precision::bf16, bf16_model);
  EXPECT_GT(*bf16.test_accuracy, 0.85);
  EXPECT_NEAR(*bf16.test_accuracy, *fp32.test_accuracy, 0.05);
  EXPECT_NE(flat_params(*bf16_model), flat_params(*fp32_model));

  auto small = toy_classes(2);  // 6 batches of 16 per epoch
  const fs::path dir = fresh_dir("bf16_resume");
  train::TrainerConfig config = quiet({.epochs = 2,
                                       .batch_size = 16,
                                       .seed = 11,
                                       .checkpoint_dir = dir.string(),
                                       .checkpoint_every = 4,
                                       .keep_last = 0,
                                       .precision = Precision::bf16});
  const optim::SGDConfig sgd{.lr = 0.1, .momentum = 0.9};
  auto straight_model = toy_model();
  train::Trainer(straight_model, sgd, sched::NoSchedulerConfig{}, config).fit(*small);
  train::TrainerConfig resumed = config;
  resumed.checkpoint_dir = (dir / "resumed").string();
  resumed.resume = (dir / train::checkpoint_filename(4)).string();
  auto model = toy_model(99);
  train::Trainer(model, sgd, sched::NoSchedulerConfig{}, resumed).fit(*small);
  EXPECT_EQ(flat_params(*model), flat_params(*straight_model));

  resumed.checkpoint_dir = (dir / "in_fp32").string();
  resumed.precision = Precision::fp32;
  auto fp32_continued = toy_model(99);
  train::Trainer continued(fp32_continued, sgd, sched::NoSchedulerConfig{}, resumed);
  const train::History rest = continued.fit(*small);
  EXPECT_EQ(rest.epochs.back().skipped_steps, 0);
  EXPECT_NE(flat_params(*fp32_continued), flat_params(*straight_model));
}

// fp16 scales the loss: from an initial scale far too large, the overflowing steps are skipped
// (not counted as divergence) while the scale halves until the gradients fit; the scale is part
// of the checkpoint, so a resume in the middle of that search is exact.
TEST(Trainer, Fp16LossScalingSkipsOverflowsAndResumesExactly) {
  auto data = toy_classes(3, 256);  // 16 batches of 16 per epoch
  const fs::path dir = fresh_dir("fp16_scale");
  train::TrainerConfig config = quiet({.epochs = 3,
                                       .batch_size = 16,
                                       .seed = 5,
                                       .checkpoint_dir = dir.string(),
                                       .checkpoint_every = 3,
                                       .keep_last = 0,
                                       .precision = Precision::fp16,
                                       .loss_scale = 0x1p32});
  const optim::AdamConfig adam{.lr = 1e-2};
  auto model = toy_model();
  train::Trainer trainer(model, adam, sched::NoSchedulerConfig{}, config);
  std::vector<bool> skipped;
  trainer.on_step_end = [&](const train::StepInfo& s) { skipped.push_back(s.skipped); };
  const train::History h = trainer.fit(*data, data.get());
  ASSERT_EQ(skipped.size(), 48u);
  // The first steps overflow, then the scale fits and stays (no growth within 2000 steps).
  const auto first_update = std::find(skipped.begin(), skipped.end(), false) - skipped.begin();
  EXPECT_GE(first_update, 5);
  EXPECT_EQ(std::count(skipped.begin(), skipped.end(), true), first_update);
  EXPECT_EQ(h.epochs.back().step, 48 - first_update);
  EXPECT_TRUE(std::isfinite(h.epochs.back().train_loss));
  EXPECT_GT(*h.epochs.back().test_accuracy, 0.5);

  // A resume from step 3 (the third update, after the search) must start from the scale found,
  // or it would search again and skip other batches.
  train::TrainerConfig resumed = config;
  resumed.checkpoint_dir = (dir / "resumed").string();
  resumed.resume = (dir / train::checkpoint_filename(3)).string();
  auto again = toy_model(99);
  train::Trainer(again, adam, sched::NoSchedulerConfig{}, resumed).fit(*data);
  EXPECT_EQ(flat_params(*again), flat_params(*model));

  nabla::testing::expect_error(
      [&] {
        train::Trainer(toy_model(), adam, sched::NoSchedulerConfig{},
                       quiet({.precision = Precision::fp16, .loss_scale = 0}));
      },
      "TrainerConfig: invalid loss_scale 0 (must be > 0)");
}

// The trainer's messages go to the log sink: a program can collect them, or silence them.
TEST(Trainer, MessagesGoToTheLogSink) {
  auto data = toy_classes(6);
  std::vector<std::pair<LogLevel, std::string>> lines;
  LogSink previous = set_log_sink(
      [&](LogLevel level, const std::string& text) { lines.emplace_back(level, text); });
  struct Restore {
    LogSink& sink;
    ~Restore() { set_log_sink(std::move(sink)); }
  } restore{previous};
  auto fit_with_a_bad_batch = [&] {
    train::Trainer trainer(toy_model(), optim::SGDConfig{.lr = 0.1}, sched::NoSchedulerConfig{},
                           quiet({.epochs = 1, .batch_size = 16}));
    int calls = 0;
    trainer.set_loss([&](const Tensor& out, const Tensor& y) {
      const Tensor loss = nn::functional::cross_entropy(out, y);
      return ++calls == 2 ? loss * NAN : loss;
    });
    trainer.fit(*data);
  };
  ::testing::internal::CaptureStdout();
  fit_with_a_bad_batch();
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].first, LogLevel::Info);
  EXPECT_EQ(lines[0].second, "step 2: non-finite loss, update skipped");

  set_log_sink(nullptr);  // silenced
  ::testing::internal::CaptureStdout();
  fit_with_a_bad_batch();
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(lines.size(), 1u);
}
