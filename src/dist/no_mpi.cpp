// Built when nabla has no MPI: the MPI entry points say so.
#include "nabla/dist/communicator.h"
#include "nabla/error.h"

namespace nabla::dist {

bool mpi_available() {
  return false;
}

std::shared_ptr<Communicator> mpi_world(const CommunicatorOptions&) {
  NABLA_FAIL(
      "distributed training needs MPI, but nabla was built without it (install libopenmpi-dev "
      "and openmpi-bin, then configure with -DNABLA_MPI=ON)");
}

}  // namespace nabla::dist
