// Built when nabla has no NCCL (no CUDA backend, no MPI, or no NCCL in the toolkit): the NCCL
// entry points say so. GPU tensors can still be reduced by the MPI communicator through the host.
#include "nabla/dist/communicator.h"
#include "nabla/error.h"

namespace nabla::dist {

bool nccl_available() {
  return false;
}

std::shared_ptr<Communicator> nccl_communicator(Communicator&, Device, const CommunicatorOptions&) {
  NABLA_FAIL(
      "the NCCL communicator needs nabla built with the CUDA backend, MPI and NCCL (nccl.h and "
      "libnccl from the CUDA toolkit)");
}

}  // namespace nabla::dist
