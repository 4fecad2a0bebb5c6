// libFuzzer entry point for the idx parser (see inputs.h).
#include "inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  nabla::fuzz::run_idx(data, size);
  return 0;
}
