// The autocast state of each thread and the names of the precisions.
#include "nabla/precision.h"

#include "nabla/error.h"

namespace nabla {
namespace {
thread_local Precision t_autocast = Precision::fp32;
}  // namespace

std::string_view precision_name(Precision p) {
  return enum_name(p);
}

Precision parse_precision(std::string_view name) {
  const std::optional<Precision> p = enum_value<Precision>(name);
  NABLA_CHECK(p.has_value(), "unknown precision '{}' (expected {})", name,
              enum_choices<Precision>());
  return *p;
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
