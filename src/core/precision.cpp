// The autocast state of each thread and the names of the precisions.
#include "nabla/precision.h"

#include "nabla/error.h"

namespace nabla {
namespace {
thread_local Precision t_autocast = Precision::fp32;
}  // namespace

std::string_view precision_name(Precision p) {
  switch (p) {
    case Precision::bf16:
      return "bf16";
    case Precision::fp16:
      return "fp16";
    case Precision::fp32:
      break;
  }
  return "fp32";
}

Precision parse_precision(std::string_view name) {
  for (Precision p : {Precision::fp32, Precision::bf16, Precision::fp16})
    if (name == precision_name(p)) return p;
  NABLA_FAIL("unknown precision '{}' (expected fp32, bf16 or fp16)", name);
}

Precision autocast_precision() {
  return t_autocast;
}

AutocastGuard::AutocastGuard(Precision p) : previous_(t_autocast) {
  t_autocast = p;
}

AutocastGuard::~AutocastGuard() {
  t_autocast = previous_;
}

}  // namespace nabla
