// libFuzzer entry point for the checkpoint parser (see inputs.h).
#include "inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  nabla::fuzz::run_checkpoint(data, size);
  return 0;
}
