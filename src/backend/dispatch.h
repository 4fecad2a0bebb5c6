// The one dispatch point between the front ends and the backends. Each backend-specific function is
// a DispatchStub with one slot per device type; kernels/cpu/*.cpp fills the CPU slots and
// kernels/cuda/*.cu the CUDA slots at load time (the shared library runs every registration; the
// static archive is linked whole for the same reason, see CMakeLists.txt). An op validates its
// arguments, then calls `stub(device)(args...)`, which runs the backend with that device current. A
// slot left empty (no CUDA in this build, or an op a backend lacks) is a clear error, never a
// crash.
#pragma once

#include <utility>

#include "nabla/device.h"
#include "nabla/error.h"

namespace nabla::backend {

// Makes CUDA device `index` current and returns the device that was current, or -1 where no
// device can be (no driver or no GPU: the call then reports that itself). Throws nabla::Error when
// the machine has no such device. Filled by the CUDA backend; null without CUDA.
inline int (*exchange_cuda_device)(int index) = nullptr;

// Keeps a CUDA device current for one call into the backend: each entry point then runs on its
// tensors' device, and so do the thread's stream, the library handles and new memory, which all
// follow the current device. So a second GPU is correct by construction.
class CudaDeviceScope {
 public:
  explicit CudaDeviceScope(int index) : index_(index), previous_(exchange_cuda_device(index)) {}
  ~CudaDeviceScope() {
    if (previous_ >= 0 && previous_ != index_) exchange_cuda_device(previous_);
  }
  CudaDeviceScope(const CudaDeviceScope&) = delete;
  CudaDeviceScope& operator=(const CudaDeviceScope&) = delete;

 private:
  int index_, previous_;
};

template <typename Signature>
struct DispatchStub;

template <typename R, typename... Args>
struct DispatchStub<R(Args...)> {
  using Fn = R(Args...);
  const char* name;
  Fn* cpu = nullptr;
  Fn* cuda = nullptr;

  // The backend call for one device, run with that device current.
  struct Call {
    Fn* fn;
    Device device;
    R operator()(Args... args) const {
      if (!device.is_cuda() || exchange_cuda_device == nullptr)
        return fn(std::forward<Args>(args)...);
      const CudaDeviceScope scope(device.index);
      return fn(std::forward<Args>(args)...);
    }
  };

  Call operator()(Device device) const {
    Fn* fn = device.is_cpu() ? cpu : cuda;
    if (fn == nullptr) {
      NABLA_CHECK(!device.is_cuda() || cuda::is_compiled(),
                  "{}: nabla was built without CUDA; rebuild with -DNABLA_CUDA=ON to use {}", name,
                  device.str());
      NABLA_FAIL("{}: not implemented on {}", name, device.str());
    }
    return {fn, device};
  }
};

}  // namespace nabla::backend

#define NABLA_STUB_CONCAT_(a, b) a##b
#define NABLA_STUB_CONCAT(a, b) NABLA_STUB_CONCAT_(a, b)

// Declares a stub in a header: NABLA_DECLARE_STUB(unary_stub, void(UnaryOp, ...));
#define NABLA_DECLARE_STUB(stub, signature)               \
  inline ::nabla::backend::DispatchStub<signature> stub { \
#stub                                                 \
  }

// Fills a stub's slot in a backend source file: NABLA_REGISTER(unary_stub, cpu, unary_cpu);
#define NABLA_REGISTER(stub, slot, fn)                                            \
  namespace {                                                                     \
  const bool NABLA_STUB_CONCAT(registered_, __LINE__) = (stub.slot = (fn), true); \
  }
