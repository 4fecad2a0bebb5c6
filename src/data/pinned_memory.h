// Page-locking of host memory, so that copies to a CUDA device run by DMA. Only the CUDA slot
// exists (kernels/data/pinned_memory.cu); callers use it only when cuda::is_available().
#pragma once

#include <cstddef>

#include "ops/dispatch.h"

namespace nabla::data {

// Returns false (and leaves the memory as it was) when the driver refuses.
NABLA_DECLARE_STUB(host_register_stub, bool(void* ptr, std::size_t nbytes));
NABLA_DECLARE_STUB(host_unregister_stub, void(void* ptr));

}  // namespace nabla::data
