// Where a tensor lives: the CPU or one CUDA device.
#pragma once

#include <cstddef>
#include <string>

namespace nabla {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  // "cpu", "cuda", "cuda:1", or "auto" (CUDA when usable, else the CPU).
  static Device parse(const std::string& text);

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  std::string str() const;
  bool operator==(const Device&) const = default;
};

namespace cuda {
// True when this build has the CUDA backend and at least one device can be used.
bool is_available();
int device_count();
// Whether the library was compiled with the CUDA backend at all.
bool is_compiled();
// Bytes free and total on a device; throws when CUDA is not usable.
std::size_t memory_free(int index = 0);
std::size_t memory_total(int index = 0);
void synchronize();
// Lets cuBLAS use TF32 tensor cores for float32 GEMM (faster, about 1e-3 relative error).
// Off by default, so GPU results match the CPU's to float32 tolerance.
void set_allow_tf32(bool on);
// Restricts cuDNN to deterministic convolution algorithms, so that repeated GPU runs (and a
// resumed one) give identical bits. Off by default: the fastest algorithm is used.
void set_deterministic(bool on);
}  // namespace cuda

}  // namespace nabla
