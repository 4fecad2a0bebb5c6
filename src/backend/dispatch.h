// The one dispatch point between the front ends and the backends. Each backend-specific function is
// a DispatchStub with one slot per device type; kernels/cpu/*.cpp fills the CPU slots and
// kernels/cuda/*.cu the CUDA slots at load time (nabla is a shared library, so every registration
// runs). An op validates its arguments, then calls `stub(device)(args...)`. A slot left empty
// (no CUDA in this build, or an op a backend lacks) is a clear error, never a crash.
#pragma once

#include "nabla/device.h"
#include "nabla/error.h"

namespace nabla::dispatch {

template <typename Fn>
struct DispatchStub {
  const char* name;
  Fn* cpu = nullptr;
  Fn* cuda = nullptr;

  Fn& operator()(Device device) const {
    Fn* fn = device.is_cpu() ? cpu : cuda;
    if (fn == nullptr) {
      NABLA_CHECK(!device.is_cuda() || cuda_compiled(),
                  "{}: nabla was built without CUDA; rebuild with -DNABLA_CUDA=ON to use {}", name,
                  device.str());
      NABLA_FAIL("{}: not implemented on {}", name, device.str());
    }
    return *fn;
  }

 private:
  static bool cuda_compiled() { return cuda::is_compiled(); }
};

}  // namespace nabla::dispatch

#define NABLA_STUB_CONCAT_(a, b) a##b
#define NABLA_STUB_CONCAT(a, b) NABLA_STUB_CONCAT_(a, b)

// Declares a stub in a header: NABLA_DECLARE_STUB(unary_stub, void(UnaryOp, ...));
#define NABLA_DECLARE_STUB(stub, signature)                \
  inline ::nabla::dispatch::DispatchStub<signature> stub { \
#stub                                                  \
  }

// Fills a stub's slot in a backend source file: NABLA_REGISTER(unary_stub, cpu, unary_cpu);
#define NABLA_REGISTER(stub, slot, fn)                                            \
  namespace {                                                                     \
  const bool NABLA_STUB_CONCAT(registered_, __LINE__) = (stub.slot = (fn), true); \
  }
