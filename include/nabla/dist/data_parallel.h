// dist::DataParallel: what a training loop does to run data-parallel over a communicator.
//
//   * Each global batch of B samples is split into contiguous slices, rank r taking
//     [r B / P, (r + 1) B / P) (shard()), so the global batch is exactly the single-process one.
//   * After backward, reduce_gradients() scales the local gradients by n_r / B (the loss is a
//     mean over the local slice, the single-process loss a mean over B) and sums them over the
//     ranks in one all-reduce over the arena's flat gradient buffer. Every rank then holds the
//     single-process gradient and applies the same optimizer step.
//   * check_model() at startup compares the arenas' layouts (sizes, names, shapes) and the run
//     settings across ranks and broadcasts rank 0's parameters; check_parameters() compares a
//     checksum of the parameter arena across ranks, so a divergence is an error, not a silent
//     drift.
// With the local communicator every call is the identity.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/dist/communicator.h"
#include "nabla/nn/arena.h"

namespace nabla::dist {

class DataParallel {
 public:
  // `grads` reduces the gradient buffer (NCCL for CUDA arenas, else `host`); `host` everything
  // else (metrics, flags, checksums, barriers).
  DataParallel(std::shared_ptr<Communicator> host, std::shared_ptr<Communicator> grads);
  // Local: one rank.
  DataParallel();
  // MPI world, with NCCL for the gradients when `device` is a GPU and NCCL is built.
  static DataParallel world(Device device, const CommunicatorOptions& options = {});

  int rank() const { return host_->rank(); }
  int size() const { return host_->size(); }
  bool is_root() const { return host_->is_root(); }
  bool distributed() const { return host_->size() > 1; }
  Communicator& host() { return *host_; }

  // This rank's [begin, end) of a global batch of `rows` samples.
  std::pair<int64_t, int64_t> shard(int64_t rows) const;

  // Layout and settings must agree on every rank; then rank 0's parameters are copied to all.
  // `settings` is any text that must be equal (for example the run's configuration).
  void check_model(const nn::ParameterArena& arena, const std::string& settings);

  // grads = sum over ranks of (local_rows / global_rows) grads_r.
  void reduce_gradients(const nn::ParameterArena& arena, int64_t local_rows, int64_t global_rows);

  // Sums host scalars over the ranks, in place.
  void sum(std::span<double> values);
  // True on every rank when `flag` is true on any.
  bool any(bool flag);
  void barrier() { host_->barrier(); }

  // Throws a nabla::Error on every rank when the parameter arenas differ across ranks.
  void check_parameters(const nn::ParameterArena& arena, int64_t step);

 private:
  std::shared_ptr<Communicator> host_, grads_;
};

// While alive, an exception leaving the scope marks the communicator failed, so that the job is
// aborted at exit instead of leaving the other ranks waiting in their next collective.
class FailFast {
 public:
  explicit FailFast(Communicator& comm) : comm_(comm), exceptions_(std::uncaught_exceptions()) {}
  ~FailFast() {
    if (std::uncaught_exceptions() > exceptions_) comm_.mark_failed();
  }
  FailFast(const FailFast&) = delete;
  FailFast& operator=(const FailFast&) = delete;

 private:
  Communicator& comm_;
  int exceptions_;
};

// A 64-bit checksum of a contiguous float32 tensor's bytes (on any device).
uint64_t checksum(const Tensor& flat);

}  // namespace nabla::dist
