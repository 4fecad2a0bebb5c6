// The NCCL communicator: all-reduce of CUDA tensors between GPUs, on nabla's stream. Built with
// the CUDA backend when NCCL is found. It is bootstrapped through a host communicator (MPI):
// rank 0 creates the NCCL id and broadcasts it. Host-side collectives (scalars, checksums,
// barriers) go to that bootstrap communicator, which must outlive this one.
//
// NCCL runs non-blocking (ncclConfig_t::blocking = 0), so every wait polls the communicator's
// asynchronous error with a deadline: a peer that died or hangs makes the wait throw after the
// timeout (and the communicator is aborted) instead of hanging.
#include <nccl.h>

#include <chrono>
#include <thread>

#include "backend/dispatch.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/runtime.h"
#include "nabla/dist/communicator.h"

namespace nabla::dist {
namespace {

#define NABLA_NCCL_CHECK(expr)                                                                  \
  do {                                                                                          \
    const ncclResult_t nabla_status_ = (expr);                                                  \
    if (nabla_status_ != ncclSuccess && nabla_status_ != ncclInProgress)                        \
      ::nabla::cuda_detail::fail(#expr, ncclGetErrorString(nabla_status_), __FILE__, __LINE__); \
  } while (0)

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(Communicator& bootstrap, Device device, const CommunicatorOptions& options)
      : bootstrap_(bootstrap), device_(device), options_(options) {
    NABLA_CHECK(device.is_cuda(), "the NCCL communicator needs a CUDA device, got {}",
                device.str());
    ncclUniqueId id{};
    if (bootstrap.is_root()) NABLA_NCCL_CHECK(ncclGetUniqueId(&id));
    bootstrap.broadcast({reinterpret_cast<std::byte*>(&id), sizeof(id)}, 0);
    const backend::CudaDeviceScope scope(device.index);
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    NABLA_NCCL_CHECK(
        ncclCommInitRankConfig(&comm_, bootstrap.size(), id, bootstrap.rank(), &config));
    wait_for_nccl("initialisation");
  }

  ~NcclCommunicator() override {
    if (comm_ == nullptr) return;
    if (failed_)
      ncclCommAbort(comm_);
    else
      ncclCommDestroy(comm_);
  }

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  int local_rank() const override { return bootstrap_.local_rank(); }
  std::string backend() const override { return "nccl"; }
  void mark_failed() override {
    failed_ = true;
    bootstrap_.mark_failed();
  }

  void all_reduce(Tensor& values, ReduceOp op) override {
    NABLA_CHECK(values.dtype() == DType::Float32 && values.is_contiguous(),
                "all_reduce expects a contiguous float32 tensor");
    if (values.device().is_cpu()) return bootstrap_.all_reduce(values, op);
    NABLA_CHECK(values.device() == device_,
                "the NCCL communicator of {} cannot reduce a tensor on {}", device_.str(),
                values.device().str());
    const backend::CudaDeviceScope scope(device_.index);
    const cudaStream_t stream = cuda_detail::stream();
    NABLA_NCCL_CHECK(ncclAllReduce(values.raw_data(), values.raw_data(),
                                   static_cast<size_t>(values.numel()), ncclFloat,
                                   op == ReduceOp::Sum ? ncclSum : ncclMax, comm_, stream));
    wait_for_nccl("all-reduce");
    // Completion, with the deadline: cudaStreamSynchronize would wait forever on a dead peer.
    const auto deadline = deadline_from_now();
    while (true) {
      const cudaError_t status = cudaStreamQuery(stream);
      if (status == cudaSuccess) return;
      if (status != cudaErrorNotReady) NABLA_CUDA_CHECK(status);
      check_async("all-reduce", deadline);
      std::this_thread::yield();
    }
  }

  void all_reduce(std::span<double> values, ReduceOp op) override {
    bootstrap_.all_reduce(values, op);
  }
  std::vector<uint64_t> all_gather(uint64_t value) override { return bootstrap_.all_gather(value); }
  void broadcast(std::span<std::byte> bytes, int root) override {
    bootstrap_.broadcast(bytes, root);
  }
  void barrier() override { bootstrap_.barrier(); }

 private:
  std::chrono::steady_clock::time_point deadline_from_now() const {
    return std::chrono::steady_clock::now() +
           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
               std::chrono::duration<double>(options_.timeout_seconds));
  }

  // Throws when NCCL reported an error, or (aborting the communicator) past the deadline.
  void check_async(const char* what, std::chrono::steady_clock::time_point deadline) {
    ncclResult_t state = ncclSuccess;
    NABLA_NCCL_CHECK(ncclCommGetAsyncError(comm_, &state));
    NABLA_CHECK(state == ncclSuccess || state == ncclInProgress, "rank {}: NCCL {} failed: {} ({})",
                rank(), what, ncclGetErrorString(state), ncclGetLastError(comm_));
    if (std::chrono::steady_clock::now() > deadline) {
      mark_failed();
      NABLA_FAIL(
          "rank {} of {}: the NCCL {} waited more than {} s for the other ranks; a rank "
          "died, hangs, or runs different code",
          rank(), size(), what, options_.timeout_seconds);
    }
  }

  // Waits until a non-blocking NCCL call has been issued (state no longer ncclInProgress).
  void wait_for_nccl(const char* what) {
    const auto deadline = deadline_from_now();
    while (true) {
      ncclResult_t state = ncclInProgress;
      NABLA_NCCL_CHECK(ncclCommGetAsyncError(comm_, &state));
      if (state != ncclInProgress) {
        check_async(what, deadline);
        return;
      }
      check_async(what, deadline);
      std::this_thread::yield();
    }
  }

  Communicator& bootstrap_;
  Device device_;
  CommunicatorOptions options_;
  ncclComm_t comm_ = nullptr;
  bool failed_ = false;
};

}  // namespace

bool nccl_available() {
  return true;
}

std::shared_ptr<Communicator> nccl_communicator(Communicator& bootstrap, Device device,
                                                const CommunicatorOptions& options) {
  return std::make_shared<NcclCommunicator>(bootstrap, device, options);
}

}  // namespace nabla::dist
