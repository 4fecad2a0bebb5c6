// libFuzzer entry point for the whole resume path (see inputs.h).
#include "inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  nabla::fuzz::run_resume(data, size);
  return 0;
}
