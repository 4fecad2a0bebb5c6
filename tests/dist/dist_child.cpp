// The program the distributed tests run under mpirun (and alone, for single-process references).
//
//   dist_child equivalence                 2 ranks, global batch 64, against a 1-process run
//   dist_child train D EPOCHS DIR RESUME OUT   D=1: distributed; DIR/OUT may be "-"
//   dist_child compare A B                 parameter files within the equivalence tolerance
//   dist_child mismatch                    rank 1 builds another model: a clear error
//   dist_child die                         rank 1 dies mid-run: the job ends, no hang
//   dist_child hang                        rank 1 hangs: a 2 s timeout ends the job
//   dist_child bench                       all-reduce time for a 784-512-512-10 MLP's gradients
//   dist_child nccl                        the NCCL communicator (exit 77 without a GPU per rank)
//
// Exit status 0: passed; 77: skipped; anything else: failed.
#include <fmt/format.h>

#include <nabla/dist/data_parallel.h>
#include <nabla/nabla.h>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace nabla;

namespace {

constexpr int kSkipped = 77;

// 249 points in 20 dimensions labelled by a fixed linear map: 3 full global batches of 64 and a
// last one of 57, which 2 ranks split unevenly (28 + 29), so the n_r / B weighting is exercised.
std::shared_ptr<data::TensorDataset> toy_data() {
  Generator gen(7), wgen(8);
  const Tensor x = Tensor::randn({249, 20}, &gen);
  const Tensor w = Tensor::randn({20, 10}, &wgen);
  return std::make_shared<data::TensorDataset>(x, argmax(matmul(x, w), 1));
}

std::shared_ptr<nn::Sequential> toy_model(int64_t hidden = 32) {
  Generator gen(3);
  return std::make_shared<nn::Sequential>(nn::Linear(20, hidden, true, &gen), nn::ReLU(),
                                          nn::Linear(hidden, 10, true, &gen));
}

train::TrainerConfig config(bool distributed, int64_t epochs) {
  return {.epochs = epochs,
          .batch_size = 64,
          .seed = 11,
          .eval_every = 1,
          .progress = train::ProgressMode::Off,
          .handle_signals = false,
          .distributed = distributed,
          .check_parameters_every = 1};  // identical on every rank after every step
}

std::unique_ptr<train::Trainer> make_trainer(bool distributed, int64_t epochs,
                                             int64_t hidden = 32) {
  return std::make_unique<train::Trainer>(toy_model(hidden),
                                          optim::SGDConfig{.lr = 0.1, .momentum = 0.9},
                                          sched::NoSchedulerConfig{}, config(distributed, epochs));
}

std::vector<float> parameters(nn::Module& model) {
  std::vector<float> out;
  for (const Tensor& p : model.parameters()) {
    const std::vector<float> v = p.to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// Note: the tolerance. Two ranks sum each gradient in another order than one process (two
// slices, each weighted by n_r / B, instead of all B rows), so a gradient differs by a few
// float32 ulps (a sum of n terms is exact to about n eps sum|terms|, n <= 64, eps = 6e-8). Over
// 8 SGD steps (lr 0.1, momentum 0.9) these differences accumulate but are not amplified unless a
// ReLU flips; the weights are O(0.3), whose ulp is 3e-8. Measured: at most 6e-8 (2 ulps). An
// absolute 1e-5 leaves room for other BLAS kernels and summation orders, and is still far below
// what a wrong reduction gives: weighting the uneven last batch (28 + 29 rows) by 1/2 instead of
// n_r / B already moves the parameters by 5e-4.
constexpr double kTolerance = 1e-5;

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

int equivalence() {
  auto data = toy_data();
  auto trainer = make_trainer(true, 2);
  if (trainer->world_size() != 2) {
    fmt::print(stderr, "equivalence: run with 2 ranks, got {}\n", trainer->world_size());
    return 1;
  }
  const train::History dist = trainer->fit(*data, data.get());
  const std::vector<float> dist_params = parameters(trainer->model());
  if (trainer->rank() != 0) return 0;
  auto reference = make_trainer(false, 2);
  const train::History ref = reference->fit(*data, data.get());
  const double diff = max_difference(dist_params, parameters(reference->model()));
  double loss_diff = 0;
  for (std::size_t e = 0; e < ref.epochs.size(); ++e)
    loss_diff = std::max({loss_diff, std::abs(dist.epochs[e].train_loss - ref.epochs[e].train_loss),
                          std::abs(*dist.epochs[e].test_loss - *ref.epochs[e].test_loss)});
  fmt::print(
      "steps {}: max |parameter difference| {:.3g}, max |loss difference| {:.3g} "
      "(tolerance {:g}); parameters identical across ranks after every step\n",
      trainer->global_step(), diff, loss_diff, kTolerance);
  return diff <= kTolerance && loss_diff <= kTolerance && trainer->global_step() == 8 ? 0 : 1;
}

void write_floats(const std::string& path, const std::vector<float>& v) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::vector<float> v(static_cast<std::size_t>(in.tellg()) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  return v;
}

int train_run(bool distributed, int64_t epochs, const std::string& dir, bool resume,
              const std::string& out) {
  auto data = toy_data();
  train::TrainerConfig c = config(distributed, epochs);
  if (dir != "-") c.checkpoint_dir = dir;
  if (resume) c.resume = dir;
  train::Trainer trainer(toy_model(), optim::SGDConfig{.lr = 0.1, .momentum = 0.9},
                         sched::NoSchedulerConfig{}, c);
  trainer.fit(*data);
  if (out != "-" && trainer.rank() == 0) write_floats(out, parameters(trainer.model()));
  return 0;
}

int compare(const std::string& a, const std::string& b) {
  const double diff = max_difference(read_floats(a), read_floats(b));
  fmt::print("max |parameter difference| {:.3g} (tolerance {:g})\n", diff, kTolerance);
  return diff <= kTolerance ? 0 : 1;
}

int mismatch() {
  // Both ranks see the error (the layouts are compared with a collective), so neither waits.
  const int rank = dist::mpi_world()->rank();
  make_trainer(true, 1, rank == 1 ? 33 : 32);
  return 1;
}

int die() {
  auto data = toy_data();
  auto trainer = make_trainer(true, 2);
  trainer->on_step_end = [&](const train::StepInfo& s) {
    if (s.step == 3 && trainer->rank() == 1) std::_Exit(3);
  };
  trainer->fit(*data);
  return 1;  // not reached: rank 0 waits in a collective until the job is ended
}

int hang() {
  dist::mpi_world({.timeout_seconds = 2});  // the first call's options apply
  auto data = toy_data();
  auto trainer = make_trainer(true, 2);
  trainer->on_step_end = [&](const train::StepInfo& s) {
    if (s.step == 3 && trainer->rank() == 1) std::this_thread::sleep_for(std::chrono::seconds(60));
  };
  trainer->fit(*data);
  return 1;  // not reached: rank 0's watchdog aborts the job
}

int bench() {
  // The MLP of the main example with two hidden layers of 512: 669,706 parameters.
  auto model =
      std::make_shared<nn::Sequential>(nn::Flatten(), nn::Linear(784, 512), nn::ReLU(),
                                       nn::Linear(512, 512), nn::ReLU(), nn::Linear(512, 10));
  auto optimizer = optim::make_optimizer(*model, optim::SGDConfig{});
  dist::DataParallel parallel = dist::DataParallel::world(Device::cpu());
  const nn::ParameterArena& arena = *optimizer->arena();
  auto time_ms = [&](auto&& body, int reps) {
    parallel.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) body();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
               .count() /
           reps;
  };
  for (int i = 0; i < 10; ++i) parallel.reduce_gradients(arena, 32, 64);  // warm-up
  const double reduce = time_ms([&] { parallel.reduce_gradients(arena, 32, 64); }, 200);
  double sums[2] = {1, 2};
  const double scalars = time_ms([&] { parallel.sum(sums); }, 2000);
  const double check = time_ms([&] { parallel.check_parameters(arena, 0); }, 50);
  // One single-process step of batch 64 on this rank, for scale.
  Generator gen(1);
  const Tensor x = Tensor::randn({64, 784}, &gen);
  const Tensor y = argmax(Tensor::randn({64, 10}, &gen), 1);
  const double step = time_ms(
      [&] {
        optimizer->zero_grad();
        nn::functional::cross_entropy((*model)(x), y).backward();
        optimizer->step();
      },
      20);
  if (parallel.is_root())
    fmt::print(
        "ranks {}, {} floats ({:.2f} MB): gradient all-reduce {:.3f} ms, scalar all-reduce "
        "{:.4f} ms, parameter checksum check {:.3f} ms; one batch-64 step {:.2f} ms\n",
        parallel.size(), arena.size(), arena.size() * 4e-6, reduce, scalars, check, step);
  return 0;
}

int nccl() {
  if (!dist::nccl_available()) {
    fmt::print("skipped: nabla was built without NCCL\n");
    return kSkipped;
  }
  auto world = dist::mpi_world();
  const int gpus = cuda::is_available() ? cuda::device_count() : 0;
  if (gpus < world->size()) {
    if (world->is_root())
      fmt::print("skipped: the NCCL test needs a GPU per rank ({} ranks), found {}\n",
                 world->size(), gpus);
    return kSkipped;
  }
  const Device device = Device::cuda(world->local_rank() % gpus);
  auto comm = dist::nccl_communicator(*world, device);
  // rank r holds r + 1 everywhere: the sum is P (P + 1) / 2.
  Tensor t = Tensor::full({1000003}, static_cast<float>(comm->rank() + 1)).to(device);
  comm->all_reduce(t, dist::ReduceOp::Sum);
  const float expected = comm->size() * (comm->size() + 1) / 2.0f;
  const std::vector<float> v = t.to_vector<float>();
  for (float e : v)
    if (e != expected) {
      fmt::print(stderr, "NCCL all-reduce: got {}, expected {}\n", e, expected);
      return 1;
    }
  // A distributed run on the GPUs: parameters identical across ranks after every step.
  auto data = toy_data();
  train::TrainerConfig c = config(true, 1);
  c.device = Device::cuda();
  train::Trainer trainer(toy_model(), optim::SGDConfig{.lr = 0.1, .momentum = 0.9},
                         sched::NoSchedulerConfig{}, c);
  trainer.fit(*data);
  if (comm->is_root()) fmt::print("NCCL all-reduce and a run on {} GPUs passed\n", comm->size());
  return 0;
}

int run(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "equivalence") return equivalence();
  if (mode == "train" && argc == 7)
    return train_run(std::string(argv[2]) == "1", std::atoll(argv[3]), argv[4],
                     std::string(argv[5]) == "1", argv[6]);
  if (mode == "compare" && argc == 4) return compare(argv[2], argv[3]);
  if (mode == "mismatch") return mismatch();
  if (mode == "die") return die();
  if (mode == "hang") return hang();
  if (mode == "bench") return bench();
  if (mode == "nccl") return nccl();
  fmt::print(stderr, "usage: see the comment at the top of tests/dist/dist_child.cpp\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  return nabla::run_program(argc, argv, run);
}
