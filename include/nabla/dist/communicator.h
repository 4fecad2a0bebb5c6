// dist::Communicator: collective operations among the processes (ranks) of one training job.
// Two implementations: MPI (CPU processes on one or many hosts; built when NABLA_MPI finds MPI)
// and NCCL (GPU buffers; built with the CUDA backend when NCCL is present, bootstrapped through
// MPI). A process that is not part of a job uses the local communicator: one rank, every
// collective the identity.
//
// Every collective must be called by all ranks in the same order. A collective that waits longer
// than the communicator's timeout (a rank hangs or took another code path) ends the job with a
// message naming it instead of waiting forever: MPI aborts the job, NCCL throws a nabla::Error.
// A rank that dies ends the job through mpirun.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nabla/reduce_op.h"
#include "nabla/tensor.h"

namespace nabla::dist {

using nabla::ReduceOp;

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The rank among the processes of this host (to pick a GPU).
  virtual int local_rank() const = 0;
  virtual std::string backend() const = 0;  // "local", "mpi", "nccl"

  // In place over a contiguous float32 tensor (1-D view of any length). The MPI communicator
  // takes CPU tensors and stages CUDA tensors through host memory; NCCL takes CUDA tensors.
  virtual void all_reduce(Tensor& values, ReduceOp op) = 0;
  // In place over host doubles (metrics, flags).
  virtual void all_reduce(std::span<double> values, ReduceOp op) = 0;
  // Every rank's `value`, indexed by rank.
  virtual std::vector<uint64_t> all_gather(uint64_t value) = 0;
  // Root's bytes to every rank (each rank passes a buffer of the same size).
  virtual void broadcast(std::span<std::byte> bytes, int root) = 0;
  virtual void barrier() = 0;

  // Marks this rank as failed: the job is then aborted (MPI_Abort) when the communicator is
  // destroyed, instead of finalized, so that no other rank waits on this one.
  virtual void mark_failed() {}
  bool is_root() const { return rank() == 0; }
};

struct CommunicatorOptions {
  // How long one collective may wait for the other ranks; 0: no limit.
  double timeout_seconds = 600.0;
};

// One rank, every collective the identity.
std::shared_ptr<Communicator> local_communicator();

// True when nabla was built with MPI.
bool mpi_available();
// The job's MPI communicator over all ranks (MPI_COMM_WORLD), initialising MPI on the first
// call (whose options apply); MPI is finalised (or the job aborted, after mark_failed()) at process
// exit. Throws a nabla::Error when nabla was built without MPI.
std::shared_ptr<Communicator> mpi_world(const CommunicatorOptions& options = {});

// True when nabla was built with NCCL.
bool nccl_available();
// A NCCL communicator over the same ranks as `bootstrap` (rank 0 creates the NCCL id and
// broadcasts it), for CUDA tensors on `device`. Throws a nabla::Error without NCCL.
std::shared_ptr<Communicator> nccl_communicator(Communicator& bootstrap, Device device,
                                                const CommunicatorOptions& options = {});

}  // namespace nabla::dist
