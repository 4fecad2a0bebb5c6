// Backend entry points of the core ops (memory, copies, elementwise, reductions, GEMM).
// Conventions: "contiguous" arguments start at data<T>(); others are read through their strides.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/elementwise.h"
#include "nabla/precision.h"
#include "nabla/tensor.h"
#include "ops/dispatch.h"

namespace nabla::ops {

using kernels::BinaryOp;
using kernels::UnaryOp;

enum class ReduceOp { Sum, Max };

// ---- memory ----
NABLA_DECLARE_STUB(allocate_stub, void*(std::size_t nbytes, int device_index));
NABLA_DECLARE_STUB(deallocate_stub, void(void* ptr, std::size_t nbytes, int device_index));
// Copies nbytes between this device and the host (dst/src on the stub's device as named).
NABLA_DECLARE_STUB(copy_to_host_stub, void(void* host_dst, const void* src, std::size_t nbytes));
NABLA_DECLARE_STUB(copy_from_host_stub, void(void* dst, const void* host_src, std::size_t nbytes));

// ---- layout ----
// dst = src elementwise, any strides on both sides, same shape, same device; converts dtype.
NABLA_DECLARE_STUB(copy_strided_stub, void(const Tensor& src, const Tensor& dst));
NABLA_DECLARE_STUB(fill_stub, void(const Tensor& out, double value));  // out contiguous

// ---- random: out contiguous float32, element i from the Philox stream (seed, offset) ----
NABLA_DECLARE_STUB(rand_uniform_stub, void(const Tensor& out, uint64_t seed, uint64_t offset));
NABLA_DECLARE_STUB(rand_normal_stub, void(const Tensor& out, uint64_t seed, uint64_t offset));

// ---- elementwise: out contiguous float32 ----
// x contiguous with out's numel.
NABLA_DECLARE_STUB(unary_stub,
                   void(UnaryOp op, const Tensor& x, const Tensor& out, float p0, float p1));
// a and b are strided views with out's shape (broadcast dims have stride 0).
NABLA_DECLARE_STUB(binary_stub, void(BinaryOp op, const Tensor& a, const Tensor& b,
                                     const Tensor& out, float p, float q));
// out = cond != 0 ? a : b, all three strided views with out's shape.
NABLA_DECLARE_STUB(where_stub,
                   void(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out));

// ---- reductions over the middle axis of a contiguous (outer, n, inner) view ----
NABLA_DECLARE_STUB(reduce_stub, void(ReduceOp op, const Tensor& x, const Tensor& out, int64_t outer,
                                     int64_t n, int64_t inner));
NABLA_DECLARE_STUB(argmax_stub, void(const Tensor& x, const Tensor& out, int64_t outer, int64_t n,
                                     int64_t inner));  // out int64
// Softmax over the last axis of contiguous (rows, cols); log = log_softmax.
NABLA_DECLARE_STUB(softmax_stub,
                   void(const Tensor& x, const Tensor& out, int64_t rows, int64_t cols, bool log));
// dx from the forward output y and dy, same layout.
NABLA_DECLARE_STUB(softmax_backward_stub, void(const Tensor& y, const Tensor& dy, const Tensor& dx,
                                               int64_t rows, int64_t cols, bool log));
// Along the middle axis: x (outer, n, inner), index and out (outer, k, inner), all contiguous.
NABLA_DECLARE_STUB(gather_stub, void(const Tensor& x, const Tensor& index, const Tensor& out,
                                     int64_t outer, int64_t n, int64_t k, int64_t inner));
// Rows of any dtype: out (B, row...) row b = src (N, row...) row index[b], all contiguous on one
// device. The caller guarantees 0 <= index[b] < N (a device backend does not read it back).
NABLA_DECLARE_STUB(gather_rows_stub,
                   void(const Tensor& src, const Tensor& index, const Tensor& out));
// out (outer, n, inner) += src (outer, k, inner) scattered by index.
NABLA_DECLARE_STUB(scatter_add_stub, void(const Tensor& src, const Tensor& index, const Tensor& out,
                                          int64_t outer, int64_t n, int64_t k, int64_t inner));

// ---- GEMM, row-major: C = alpha * op(A) op(B) + beta * C, over `batch` strided matrices ----
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f, beta = 0.0f;
  const float* a = nullptr;
  int64_t lda = 0, stride_a = 0;
  const float* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  float* c = nullptr;
  int64_t ldc = 0, stride_c = 0;
  int64_t batch = 1;
  // A type that A and B hold exactly (see nabla/precision.h): a backend may multiply in it, with
  // float32 accumulation, and get the same products.
  Precision operands = Precision::fp32;
};
NABLA_DECLARE_STUB(gemm_stub, void(const GemmArgs& args));

}  // namespace nabla::ops

namespace nabla::ops {
// ---- device runtime (CUDA slots only; an empty slot means no CUDA in this build) ----
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
}  // namespace nabla::ops
