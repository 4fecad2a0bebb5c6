// The MPI communicator over MPI_COMM_WORLD. Collectives are MPI's blocking ones (the
// non-blocking ones with polling measured twice as slow for the gradient all-reduce); a watchdog
// thread bounds each wait: when a collective outlives the timeout (a rank hangs or runs other
// code), it reports which one and aborts the job, instead of leaving every rank waiting.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "nabla/dist/communicator.h"
#include "nabla/error.h"

namespace nabla::dist {
namespace {

void check_mpi(int status, const char* what) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  NABLA_FAIL("MPI {} failed: {}", what, std::string(text, length));
}

MPI_Op mpi_op(ReduceOp op) {
  return op == ReduceOp::Sum ? MPI_SUM : MPI_MAX;
}

// Aborts the job when a collective it watches runs past its deadline.
class Watchdog {
 public:
  Watchdog(double timeout_seconds, int rank, int size)
      : timeout_(timeout_seconds), rank_(rank), size_(size), thread_([this] { run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_one();
    thread_.join();
  }

  // Watches the collective `what` for its scope (no-op without a watchdog).
  class Scope {
   public:
    Scope(Watchdog* dog, std::string what) : dog_(dog) {
      if (dog_) dog_->arm(std::move(what));
    }
    ~Scope() {
      if (dog_) dog_->disarm();
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Watchdog* dog_;
  };

 private:
  using clock = std::chrono::steady_clock;

  void arm(std::string what) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      what_ = std::move(what);
      deadline_ = clock::now() + std::chrono::duration_cast<clock::duration>(
                                     std::chrono::duration<double>(timeout_));
    }
    changed_.notify_one();
  }
  void disarm() {
    std::lock_guard<std::mutex> lock(mutex_);
    deadline_.reset();
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      if (!deadline_) {
        changed_.wait(lock);
      } else if (clock::now() < *deadline_) {
        changed_.wait_until(lock, *deadline_);
      } else {
        std::fprintf(stderr,
                     "nabla: rank %d of %d: the %s waited more than %g s for the other ranks; a "
                     "rank hangs or runs different code (another model, data or batch size). "
                     "Aborting the job.\n",
                     rank_, size_, what_.c_str(), timeout_);
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
    }
  }

  double timeout_;
  int rank_, size_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<clock::time_point> deadline_;
  std::string what_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(const CommunicatorOptions& options) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      // Only the main thread runs collectives. The watchdog's MPI_Abort may overlap one, but
      // only to end a job that is stuck: whether it aborts or crashes, the job ends.
      int provided = 0;
      check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "init");
      owns_mpi_ = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm node;
    check_mpi(
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
        "split by host");
    MPI_Comm_rank(node, &local_rank_);
    MPI_Comm_free(&node);
    if (options.timeout_seconds > 0)
      watchdog_ = std::make_unique<Watchdog>(options.timeout_seconds, rank_, size_);
  }

  ~MpiCommunicator() override {
    watchdog_.reset();
    if (!owns_mpi_) return;
    if (failed_)
      MPI_Abort(MPI_COMM_WORLD, 1);
    else
      MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  std::string backend() const override { return "mpi"; }
  void mark_failed() override { failed_ = true; }

  void all_reduce(Tensor& values, ReduceOp op) override {
    NABLA_CHECK(values.dtype() == DType::Float32 && values.is_contiguous(),
                "all_reduce expects a contiguous float32 tensor, got {} {}",
                dtype_name(values.dtype()), values.is_contiguous() ? "" : "(not contiguous)");
    if (values.device().is_cuda()) {
      // Staged through host memory: the NCCL communicator is the fast path for GPUs.
      Tensor host = values.to(Device::cpu());
      all_reduce(host, op);
      values.copy_(host);
      return;
    }
    const Watchdog::Scope watch(watchdog_.get(),
                                fmt::format("all-reduce of {} floats", values.numel()));
    float* data = static_cast<float*>(values.raw_data());
    for (int64_t done = 0, n = values.numel(); done < n;) {
      const int count = static_cast<int>(std::min<int64_t>(n - done, INT_MAX));
      check_mpi(
          MPI_Allreduce(MPI_IN_PLACE, data + done, count, MPI_FLOAT, mpi_op(op), MPI_COMM_WORLD),
          "all-reduce");
      done += count;
    }
  }

  void all_reduce(std::span<double> values, ReduceOp op) override {
    const Watchdog::Scope watch(watchdog_.get(), "all-reduce of scalars");
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()),
                            MPI_DOUBLE, mpi_op(op), MPI_COMM_WORLD),
              "all-reduce");
  }

  std::vector<uint64_t> all_gather(uint64_t value) override {
    const Watchdog::Scope watch(watchdog_.get(), "all-gather");
    std::vector<uint64_t> out(static_cast<std::size_t>(size_));
    check_mpi(MPI_Allgather(&value, 1, MPI_UINT64_T, out.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD),
              "all-gather");
    return out;
  }

  void broadcast(std::span<std::byte> bytes, int root) override {
    NABLA_CHECK(root >= 0 && root < size_, "broadcast: root {} is not a rank (0..{})", root,
                size_ - 1);
    const Watchdog::Scope watch(watchdog_.get(),
                                fmt::format("broadcast of {} bytes", bytes.size()));
    for (std::size_t done = 0; done < bytes.size();) {
      const int count = static_cast<int>(std::min<std::size_t>(bytes.size() - done, INT_MAX));
      check_mpi(MPI_Bcast(bytes.data() + done, count, MPI_BYTE, root, MPI_COMM_WORLD), "broadcast");
      done += count;
    }
  }

  void barrier() override {
    const Watchdog::Scope watch(watchdog_.get(), "barrier");
    check_mpi(MPI_Barrier(MPI_COMM_WORLD), "barrier");
  }

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  bool owns_mpi_ = false, failed_ = false;
  std::unique_ptr<Watchdog> watchdog_;
};

}  // namespace

bool mpi_available() {
  return true;
}

std::shared_ptr<Communicator> mpi_world(const CommunicatorOptions& options) {
  // One per process, destroyed (MPI finalised or the job aborted) at exit.
  static const std::shared_ptr<Communicator> world = std::make_shared<MpiCommunicator>(options);
  return world;
}

}  // namespace nabla::dist
