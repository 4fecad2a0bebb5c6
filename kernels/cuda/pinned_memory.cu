// Page-locking of host batch buffers for the DataLoader (see src/backend/memory.h).
#include <cuda_runtime.h>

#include "backend/memory.h"

namespace nabla::data {
namespace {

bool host_register_cuda(void* ptr, std::size_t nbytes) {
  if (cudaHostRegister(ptr, nbytes, cudaHostRegisterDefault) == cudaSuccess) return true;
  (void)cudaGetLastError();  // not fatal: the buffer stays in pageable memory
  return false;
}

void host_unregister_cuda(void* ptr) {
  if (cudaHostUnregister(ptr) != cudaSuccess) (void)cudaGetLastError();
}

}  // namespace

NABLA_REGISTER(backend::host_register_stub, cuda, host_register_cuda)
NABLA_REGISTER(backend::host_unregister_stub, cuda, host_unregister_cuda)

}  // namespace nabla::data
