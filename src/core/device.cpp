#include "nabla/device.h"

#include <fmt/format.h>

#include <cstdlib>

#include "backend/runtime.h"
#include "nabla/error.h"

namespace nabla {

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "auto") return cuda::is_available() ? cuda(0) : cpu();
  if (text == "cuda") return cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    char* end = nullptr;
    const long index = std::strtol(text.c_str() + 5, &end, 10);
    if (end != text.c_str() + 5 && *end == '\0' && index >= 0) return cuda(static_cast<int>(index));
  }
  NABLA_FAIL("unknown device '{}': expected cpu, cuda, cuda:N or auto", text);
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : fmt::format("cuda:{}", index);
}

namespace cuda {

bool is_compiled() {
  return backend::device_count_stub.cuda != nullptr;
}

int device_count() {
  return is_compiled() ? backend::device_count_stub(Device::cuda())() : 0;
}

bool is_available() {
  return device_count() > 0;
}

namespace {
void memory_info(int index, std::size_t* free, std::size_t* total) {
  NABLA_CHECK(is_available(), "CUDA is not available: {}",
              is_compiled() ? "no usable CUDA device was found"
                            : "nabla was built without CUDA (-DNABLA_CUDA=OFF or no nvcc)");
  backend::memory_info_stub(Device::cuda(index))(index, free, total);
}
}  // namespace

std::size_t memory_free(int index) {
  std::size_t free = 0, total = 0;
  memory_info(index, &free, &total);
  return free;
}

std::size_t memory_total(int index) {
  std::size_t free = 0, total = 0;
  memory_info(index, &free, &total);
  return total;
}

void set_allow_tf32(bool on) {
  if (is_compiled()) backend::set_allow_tf32_stub(Device::cuda())(on);
}

void set_deterministic(bool on) {
  if (is_compiled()) backend::set_deterministic_stub(Device::cuda())(on);
}

void synchronize() {
  if (is_available()) backend::synchronize_stub(Device::cuda())();
}

}  // namespace cuda
}  // namespace nabla
