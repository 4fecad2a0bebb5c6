// dist::DataParallel: batch slices, the gradient all-reduce, and the cross-rank agreement checks.
#include "nabla/dist/data_parallel.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include "nabla/autograd.h"
#include "nabla/error.h"

namespace nabla::dist {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t hash_text(const std::string& text) {
  uint64_t h = kFnvOffset;
  for (unsigned char c : text) h = (h ^ c) * kFnvPrime;
  return h;
}

// Throws on every rank (all see the same values) when the ranks' `value`s differ.
void expect_equal(Communicator& comm, uint64_t value, const std::string& what,
                  const std::string& hint) {
  const std::vector<uint64_t> all = comm.all_gather(value);
  for (int r = 1; r < comm.size(); ++r)
    NABLA_CHECK(all[r] == all[0], "distributed run: rank {} has another {} than rank 0 ({}); {}", r,
                what, fmt::join(all, " / "), hint);
}

}  // namespace

uint64_t checksum(const Tensor& flat) {
  NABLA_CHECK(flat.dtype() == DType::Float32 && flat.is_contiguous(),
              "checksum expects a contiguous float32 tensor");
  const Tensor host = flat.device().is_cpu() ? flat : flat.to(Device::cpu());
  const auto* bytes = static_cast<const unsigned char*>(host.raw_data());
  const std::size_t n = static_cast<std::size_t>(host.numel()) * sizeof(float);
  // FNV-1a over 8-byte words, then the tail: a few ms for millions of parameters.
  uint64_t h = kFnvOffset;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes + i, 8);
    h = (h ^ word) * kFnvPrime;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ bytes[i]) * kFnvPrime;
  return h;
}

DataParallel::DataParallel(std::shared_ptr<Communicator> host, std::shared_ptr<Communicator> grads)
    : host_(std::move(host)), grads_(std::move(grads)) {
  NABLA_CHECK(host_ && grads_, "DataParallel: a communicator is null");
  NABLA_CHECK(host_->size() == grads_->size() && host_->rank() == grads_->rank(),
              "DataParallel: the two communicators span other ranks");
}

DataParallel::DataParallel() : DataParallel(local_communicator(), local_communicator()) {}

DataParallel DataParallel::world(Device device, const CommunicatorOptions& options) {
  std::shared_ptr<Communicator> host = mpi_world(options);
  if (device.is_cuda() && nccl_available() && host->size() > 1)
    return DataParallel(host, nccl_communicator(*host, device, options));
  return DataParallel(host, host);
}

std::pair<int64_t, int64_t> DataParallel::shard(int64_t rows) const {
  return {rows * rank() / size(), rows * (rank() + 1) / size()};
}

void DataParallel::check_model(const nn::ParameterArena& arena, const std::string& settings) {
  if (!distributed()) return;
  std::string layout;
  for (const nn::ParameterArena::Entry& e : arena.entries())
    layout += fmt::format("{}:{}:{};", e.name, e.offset, e.param.shape().str());
  const std::string hint = "every rank must build the same model and run with the same settings";
  expect_equal(*host_, static_cast<uint64_t>(arena.size()), "parameter count (floats)", hint);
  expect_equal(*host_, hash_text(layout), "parameter layout (names and shapes, hashed)", hint);
  expect_equal(*host_, hash_text(settings), "run configuration (hashed)", hint);
  // Equal seeds give equal parameters already; the copy makes any other start agree too.
  Tensor params = arena.flat_params();
  if (params.device().is_cpu()) {
    host_->broadcast({static_cast<std::byte*>(params.raw_data()),
                      static_cast<std::size_t>(params.numel()) * sizeof(float)},
                     0);
  } else {
    Tensor staged = params.to(Device::cpu());
    host_->broadcast({static_cast<std::byte*>(staged.raw_data()),
                      static_cast<std::size_t>(staged.numel()) * sizeof(float)},
                     0);
    NoGradGuard no_grad;
    params.copy_(staged);
  }
}

void DataParallel::reduce_gradients(const nn::ParameterArena& arena, int64_t local_rows,
                                    int64_t global_rows) {
  if (!distributed()) return;
  NABLA_CHECK(global_rows > 0, "reduce_gradients: the global batch is empty");
  NoGradGuard no_grad;
  Tensor grads = arena.flat_grads();
  if (local_rows != global_rows)
    grads.mul_(static_cast<float>(static_cast<double>(local_rows) / global_rows));
  grads_->all_reduce(grads, ReduceOp::Sum);
}

void DataParallel::sum(std::span<double> values) {
  if (distributed()) host_->all_reduce(values, ReduceOp::Sum);
}

bool DataParallel::any(bool flag) {
  if (!distributed()) return flag;
  double value = flag ? 1.0 : 0.0;
  host_->all_reduce(std::span<double>(&value, 1), ReduceOp::Max);
  return value > 0;
}

void DataParallel::check_parameters(const nn::ParameterArena& arena, int64_t step) {
  if (!distributed()) return;
  const std::vector<uint64_t> all = host_->all_gather(checksum(arena.flat_params()));
  for (int r = 1; r < size(); ++r)
    NABLA_CHECK(all[r] == all[0],
                "distributed run: the parameters of rank {} differ from rank 0's after step {} "
                "(checksums {:016x} and {:016x}); the ranks diverged (non-deterministic "
                "reduction, or a rank ran other code)",
                r, step, all[r], all[0]);
}

}  // namespace nabla::dist
