// The device runtime: device count and memory, synchronisation, math switches and CUDA graphs.
// CUDA slots only; an empty slot means no CUDA in this build.
#pragma once

#include <cstddef>

#include "backend/dispatch.h"

namespace nabla::backend {

NABLA_DECLARE_STUB(device_count_stub, int());
NABLA_DECLARE_STUB(memory_info_stub, void(int device_index, std::size_t* free, std::size_t* total));
NABLA_DECLARE_STUB(synchronize_stub, void());
NABLA_DECLARE_STUB(set_allow_tf32_stub, void(bool on));
NABLA_DECLARE_STUB(set_deterministic_stub, void(bool on));
// CUDA graphs: between begin and end, the work the calling thread queues on its device stream is
// recorded, not run, and the memory allocated meanwhile belongs to the graph. end(true) returns
// the instantiated graph for launch (a replay) and destroy; end(false) abandons the capture.
// Capturing anything that waits for the device fails the capture.
NABLA_DECLARE_STUB(graph_begin_capture_stub, void());
NABLA_DECLARE_STUB(graph_end_capture_stub, void*(bool keep));
NABLA_DECLARE_STUB(graph_launch_stub, void(void* graph));
NABLA_DECLARE_STUB(graph_destroy_stub, void(void* graph));

}  // namespace nabla::backend
