// Host memory from the caching allocator, for buffers that are not tensors (the byte images of
// data::MNIST). Blocks of 4 MiB and more are aligned to 2 MiB and backed by huge pages where the
// kernel allows: a gather over scattered rows of a large data set then misses the TLB far less.
#pragma once

#include <cstddef>
#include <memory>

#include "nabla/error.h"
#include "nabla/tensor.h"

namespace nabla::cpu {

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

}  // namespace nabla::cpu
