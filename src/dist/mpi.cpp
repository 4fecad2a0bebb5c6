// The MPI communicator over MPI_COMM_WORLD. Collectives are started non-blocking and polled
// with a deadline, so a rank that died or hangs ends the job with an error instead of a hang.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
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

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(const CommunicatorOptions& options) : options_(options) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      // Only the thread that calls nabla's collectives talks to MPI.
      int provided = 0;
      check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "init");
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
  }

  ~MpiCommunicator() override {
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
    float* data = static_cast<float*>(values.raw_data());
    for (int64_t done = 0, n = values.numel(); done < n;) {
      const int count = static_cast<int>(std::min<int64_t>(n - done, INT_MAX));
      MPI_Request request;
      check_mpi(MPI_Iallreduce(MPI_IN_PLACE, data + done, count, MPI_FLOAT, mpi_op(op),
                               MPI_COMM_WORLD, &request),
                "all-reduce");
      wait(request, fmt::format("all-reduce of {} floats", n));
      done += count;
    }
  }

  void all_reduce(std::span<double> values, ReduceOp op) override {
    MPI_Request request;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()),
                             MPI_DOUBLE, mpi_op(op), MPI_COMM_WORLD, &request),
              "all-reduce");
    wait(request, fmt::format("all-reduce of {} scalars", values.size()));
  }

  std::vector<uint64_t> all_gather(uint64_t value) override {
    std::vector<uint64_t> out(static_cast<std::size_t>(size_));
    MPI_Request request;
    check_mpi(MPI_Iallgather(&value, 1, MPI_UINT64_T, out.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD,
                             &request),
              "all-gather");
    wait(request, "all-gather");
    return out;
  }

  void broadcast(std::span<std::byte> bytes, int root) override {
    NABLA_CHECK(root >= 0 && root < size_, "broadcast: root {} is not a rank (0..{})", root,
                size_ - 1);
    for (std::size_t done = 0; done < bytes.size();) {
      const int count = static_cast<int>(std::min<std::size_t>(bytes.size() - done, INT_MAX));
      MPI_Request request;
      check_mpi(MPI_Ibcast(bytes.data() + done, count, MPI_BYTE, root, MPI_COMM_WORLD, &request),
                "broadcast");
      wait(request, fmt::format("broadcast of {} bytes", bytes.size()));
      done += count;
    }
  }

  void barrier() override {
    MPI_Request request;
    check_mpi(MPI_Ibarrier(MPI_COMM_WORLD, &request), "barrier");
    wait(request, "barrier");
  }

 private:
  // Polls until the collective completes (MPI progresses it inside MPI_Test) or the deadline.
  void wait(MPI_Request& request, const std::string& what) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::duration<double>(options_.timeout_seconds);
    for (int64_t polls = 1;; ++polls) {
      int done = 0;
      check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), what.c_str());
      if (done) return;
      if (polls % 1024 == 0) {
        NABLA_CHECK(clock::now() < deadline,
                    "rank {} of {}: the {} waited more than {} s for the other ranks; a rank "
                    "died, hangs, or runs different code (another model, data or batch size)",
                    rank_, size_, what, options_.timeout_seconds);
        std::this_thread::yield();
      }
    }
  }

  CommunicatorOptions options_;
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  bool owns_mpi_ = false, failed_ = false;
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
