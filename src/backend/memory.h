// Memory of a device and copies between it and the host; page-locking of host memory (CUDA only:
// callers use it when cuda::is_available()), and host memory for buffers that are not tensors.
#pragma once

#include <cstddef>
#include <memory>

#include "backend/dispatch.h"
#include "nabla/error.h"
#include "nabla/tensor.h"

namespace nabla::backend {

NABLA_DECLARE_STUB(allocate_stub, void*(std::size_t nbytes, int device_index));
NABLA_DECLARE_STUB(deallocate_stub, void(void* ptr, std::size_t nbytes, int device_index));
// Copies nbytes between this device and the host (dst/src on the stub's device as named).
NABLA_DECLARE_STUB(copy_to_host_stub, void(void* host_dst, const void* src, std::size_t nbytes));
NABLA_DECLARE_STUB(copy_from_host_stub, void(void* dst, const void* host_src, std::size_t nbytes));

// Returns false (and leaves the memory as it was) when the driver refuses.
NABLA_DECLARE_STUB(host_register_stub, bool(void* ptr, std::size_t nbytes));
NABLA_DECLARE_STUB(host_unregister_stub, void(void* ptr));

// Host memory from the caching allocator, for buffers that are not tensors (the byte images of
// data::MNIST). Blocks of 4 MiB and more are aligned to 2 MiB and backed by huge pages where the
// kernel allows: a gather over scattered rows of a large data set then misses the TLB far less.
void* allocate_host(std::size_t nbytes);
void deallocate_host(void* p, std::size_t nbytes);

// allocate_host() owned: the block goes back to the allocator when the last owner is gone.
template <typename T>
std::shared_ptr<T[]> make_host_array(std::size_t count) {
  NABLA_CHECK(count <= kMaxAllocationBytes / sizeof(T),
              "cannot allocate {} elements of {} bytes: more than any machine's memory", count,
              sizeof(T));
  const std::size_t nbytes = count * sizeof(T);
  return std::shared_ptr<T[]>(static_cast<T*>(allocate_host(nbytes)),
                              [nbytes](T* p) { deallocate_host(p, nbytes); });
}

}  // namespace nabla::backend
