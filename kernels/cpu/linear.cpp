// CPU epilogue of the linear layer (the math is kernels/math/linear.h): bias + activation over the
// GEMM output in one pass, and in the backward the masked gradient with the bias gradient's
// column sums in one pass. Both work row by row, so the inner loop over the features vectorises.
#include <algorithm>

#include "backend/linear.h"
#include "kernels/cpu/loops.h"

namespace nabla::cpu {
namespace {

using kernels::Activation;

template <Activation act>
void bias_activation_rows(float* y, const float* bias, int64_t begin, int64_t end, int64_t out) {
  for (int64_t r = begin; r < end; ++r) {
    float* row = y + r * out;
    if (bias != nullptr)
      for (int64_t j = 0; j < out; ++j) row[j] = kernels::activation_forward(act, row[j] + bias[j]);
    else
      for (int64_t j = 0; j < out; ++j) row[j] = kernels::activation_forward(act, row[j]);
  }
}

void bias_activation_cpu(float* y, const float* bias, int64_t n, int64_t out, Activation act) {
  parallel_for(n, std::max<int64_t>(1, kParallelGrain / out), [&](int64_t begin, int64_t end) {
    if (act == Activation::Relu)
      bias_activation_rows<Activation::Relu>(y, bias, begin, end, out);
    else
      bias_activation_rows<Activation::None>(y, bias, begin, end, out);
  });
}

// Columns [c0, c1), at most kColumns of them, over every row: the column sums then have one
// fixed order (row by row) whatever the thread count.
constexpr int64_t kColumns = 64;

template <Activation act>
void backward_columns(const float* dy, const float* y, float* dz, float* dbias, int64_t n,
                      int64_t out, int64_t c0, int64_t c1) {
  float sums[kColumns] = {};
  for (int64_t r = 0; r < n; ++r) {
    const float* dy_row = dy + r * out + c0;
    const float* y_row = y + r * out + c0;
    float* dz_row = dz != nullptr ? dz + r * out + c0 : nullptr;
    for (int64_t j = 0; j < c1 - c0; ++j) {
      const float d = kernels::activation_backward(act, y_row[j], dy_row[j]);
      if (dz_row != nullptr) dz_row[j] = d;
      sums[j] += d;
    }
  }
  if (dbias != nullptr)
    for (int64_t j = c0; j < c1; ++j) dbias[j] += sums[j - c0];
}

void bias_activation_backward_cpu(const float* dy, const float* y, float* dz, float* dbias,
                                  int64_t n, int64_t out, Activation act) {
  // Blocks of columns are the unit of parallel work.
  const int64_t blocks = (out + kColumns - 1) / kColumns;
  parallel_for(blocks, std::max<int64_t>(1, kParallelGrain / (n * kColumns)),
               [&](int64_t begin, int64_t end) {
                 for (int64_t block = begin; block < end; ++block) {
                   const int64_t c0 = block * kColumns, c1 = std::min(out, c0 + kColumns);
                   if (act == Activation::Relu)
                     backward_columns<Activation::Relu>(dy, y, dz, dbias, n, out, c0, c1);
                   else
                     backward_columns<Activation::None>(dy, y, dz, dbias, n, out, c0, c1);
                 }
               });
}

}  // namespace
}  // namespace nabla::cpu

namespace nabla::backend {
NABLA_REGISTER(bias_activation_stub, cpu, cpu::bias_activation_cpu)
NABLA_REGISTER(bias_activation_backward_stub, cpu, cpu::bias_activation_backward_cpu)
}  // namespace nabla::backend
