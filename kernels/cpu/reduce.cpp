// CPU reductions, softmax, gather/scatter and row gathers. Sums accumulate in double: exact enough
// that the result does not depend on how rows are split across threads.
#include <cmath>
#include <cstring>
#include <limits>

#include "backend/indexing.h"
#include "backend/reduce.h"
#include "kernels/cpu/loops.h"

namespace nabla::cpu {
namespace {

void reduce_cpu(ReduceOp op, const Tensor& x, const Tensor& out, int64_t outer, int64_t n,
                int64_t inner) {
  const float* in = x.data<float>();
  float* o = out.data<float>();
  const bool is_sum = op == ReduceOp::Sum;
  if (inner == 1) {
    parallel_for(outer, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const float* row = in + r * n;
                     if (is_sum) {
                       double acc = 0.0;
                       for (int64_t i = 0; i < n; ++i) acc += row[i];
                       o[r] = static_cast<float>(acc);
                     } else {
                       float m = -std::numeric_limits<float>::infinity();
                       for (int64_t i = 0; i < n; ++i)
                         m = (row[i] > m || std::isnan(row[i])) ? row[i] : m;
                       o[r] = m;
                     }
                   }
                 });
    return;
  }
  // Reduce over a strided middle axis: walk rows of `inner` contiguous values.
  parallel_for(outer * inner, kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t idx = b; idx < e; ++idx) {
      const int64_t r = idx / inner, c = idx % inner;
      const float* p = in + r * n * inner + c;
      if (is_sum) {
        double acc = 0.0;
        for (int64_t i = 0; i < n; ++i) acc += p[i * inner];
        o[idx] = static_cast<float>(acc);
      } else {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t i = 0; i < n; ++i) {
          const float v = p[i * inner];
          m = (v > m || std::isnan(v)) ? v : m;
        }
        o[idx] = m;
      }
    }
  });
}

void argmax_cpu(const Tensor& x, const Tensor& out, int64_t outer, int64_t n, int64_t inner) {
  const float* in = x.data<float>();
  int64_t* o = out.data<int64_t>();
  parallel_for(outer * inner, kParallelGrain / std::max<int64_t>(n, 1) + 1,
               [&](int64_t b, int64_t e) {
                 for (int64_t idx = b; idx < e; ++idx) {
                   const int64_t r = idx / inner, c = idx % inner;
                   const float* p = in + r * n * inner + c;
                   int64_t best = 0;
                   float m = p[0];
                   for (int64_t i = 1; i < n; ++i) {
                     const float v = p[i * inner];
                     if (v > m || (std::isnan(v) && !std::isnan(m))) m = v, best = i;
                   }
                   o[idx] = best;
                 }
               });
}

void softmax_cpu(const Tensor& x, const Tensor& out, int64_t rows, int64_t cols, bool log) {
  const float* in = x.data<float>();
  float* o = out.data<float>();
  parallel_for(rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r) {
                   const float* xr = in + r * cols;
                   float* yr = o + r * cols;
                   float m = -std::numeric_limits<float>::infinity();
                   for (int64_t i = 0; i < cols; ++i) m = std::max(m, xr[i]);
                   double total = 0.0;
                   for (int64_t i = 0; i < cols; ++i) total += std::exp(xr[i] - m);
                   if (log) {
                     const float lse = m + static_cast<float>(std::log(total));
                     for (int64_t i = 0; i < cols; ++i) yr[i] = xr[i] - lse;
                   } else {
                     const float inv = static_cast<float>(1.0 / total);
                     for (int64_t i = 0; i < cols; ++i) yr[i] = std::exp(xr[i] - m) * inv;
                   }
                 }
               });
}

// softmax:     dx = y * (dy - sum(dy * y))
// log_softmax: dx = dy - exp(y) * sum(dy)
void softmax_backward_cpu(const Tensor& y, const Tensor& dy, const Tensor& dx, int64_t rows,
                          int64_t cols, bool log) {
  const float* py = y.data<float>();
  const float* pdy = dy.data<float>();
  float* pdx = dx.data<float>();
  parallel_for(rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r) {
                   const float* yr = py + r * cols;
                   const float* gr = pdy + r * cols;
                   float* dr = pdx + r * cols;
                   double acc = 0.0;
                   if (log) {
                     for (int64_t i = 0; i < cols; ++i) acc += gr[i];
                     const float s = static_cast<float>(acc);
                     for (int64_t i = 0; i < cols; ++i) dr[i] = gr[i] - std::exp(yr[i]) * s;
                   } else {
                     for (int64_t i = 0; i < cols; ++i) acc += gr[i] * yr[i];
                     const float s = static_cast<float>(acc);
                     for (int64_t i = 0; i < cols; ++i) dr[i] = yr[i] * (gr[i] - s);
                   }
                 }
               });
}

// Visits every index of a (outer, k, inner) index tensor into a (outer, n, inner) tensor:
// f(position in the index tensor, position it selects), after checking the index.
template <typename F>
void for_each_index(const char* op, const int64_t* idx, int64_t outer, int64_t n, int64_t k,
                    int64_t inner, F&& f) {
  for (int64_t r = 0; r < outer; ++r)
    for (int64_t j = 0; j < k; ++j)
      for (int64_t c = 0; c < inner; ++c) {
        const int64_t pos = (r * k + j) * inner + c;
        const int64_t i = idx[pos];
        NABLA_CHECK(i >= 0 && i < n, "{}: index {} is out of range for a dimension of size {}", op,
                    i, n);
        f(pos, (r * n + i) * inner + c);
      }
}

void gather_cpu(const Tensor& x, const Tensor& index, const Tensor& out, int64_t outer, int64_t n,
                int64_t k, int64_t inner) {
  const float* in = x.data<float>();
  float* o = out.data<float>();
  for_each_index("gather", index.data<int64_t>(), outer, n, k, inner,
                 [&](int64_t pos, int64_t from) { o[pos] = in[from]; });
}

void scatter_add_cpu(const Tensor& src, const Tensor& index, const Tensor& out, int64_t outer,
                     int64_t n, int64_t k, int64_t inner) {
  const float* s = src.data<float>();
  float* o = out.data<float>();
  for_each_index("scatter_add", index.data<int64_t>(), outer, n, k, inner,
                 [&](int64_t pos, int64_t to) { o[to] += s[pos]; });
}

void gather_rows_cpu(const Tensor& src, const Tensor& index, const Tensor& out) {
  const int64_t n = src.size(0), rows = index.numel();
  if (rows == 0) return;
  const std::size_t row_bytes =
      static_cast<std::size_t>(out.numel() / rows) * dtype_size(out.dtype());
  const auto* from = static_cast<const char*>(src.raw_data());
  auto* to = static_cast<char*>(out.raw_data());
  const int64_t* idx = index.data<int64_t>();
  for (int64_t b = 0; b < rows; ++b) {
    NABLA_CHECK(idx[b] >= 0 && idx[b] < n, "gather_rows: index {} is out of range for {} rows",
                idx[b], n);
    std::memcpy(to + b * row_bytes, from + idx[b] * row_bytes, row_bytes);
  }
}

}  // namespace
}  // namespace nabla::cpu

namespace nabla::backend {
NABLA_REGISTER(reduce_stub, cpu, cpu::reduce_cpu)
NABLA_REGISTER(argmax_stub, cpu, cpu::argmax_cpu)
NABLA_REGISTER(softmax_stub, cpu, cpu::softmax_cpu)
NABLA_REGISTER(softmax_backward_stub, cpu, cpu::softmax_backward_cpu)
NABLA_REGISTER(gather_stub, cpu, cpu::gather_cpu)
NABLA_REGISTER(gather_rows_stub, cpu, cpu::gather_rows_cpu)
NABLA_REGISTER(scatter_add_stub, cpu, cpu::scatter_add_cpu)
}  // namespace nabla::backend
