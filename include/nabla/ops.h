// The differentiable ops on tensors. Elementwise ops broadcast as NumPy does; each records its
// backward in the autograd graph when an input requires a gradient and grad mode is on.
// Math ops take float32 tensors; int64 operands of comparisons are converted to float32.
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

// ---- elementwise, broadcasting ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// Comparisons give 1.0f where true and 0.0f elsewhere; they have no gradient.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
// where(cond, a, b): a where cond != 0, else b; gradients flow to a and b.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// ---- elementwise with scalars ----
Tensor add(const Tensor& a, float s);
Tensor mul(const Tensor& a, float s);
Tensor rsub(const Tensor& a, float s);  // s - a
Tensor rdiv(const Tensor& a, float s);  // s / a
Tensor pow(const Tensor& a, float exponent);
Tensor clamp(const Tensor& a, float min, float max);

// ---- unary ----
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor relu(const Tensor& a);
Tensor leaky_relu(const Tensor& a, float negative_slope = 0.01f);
Tensor sigmoid(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor gelu(const Tensor& a);  // exact (erf) form, as torch.nn.GELU()

// ---- reductions (dims may be negative; an empty list means all dims) ----
Tensor sum(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Largest value over `dims`; the gradient is shared equally among tied maxima.
Tensor amax(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim = false);  // int64, first maximum
// Sums `a` down to `shape` (the reverse of broadcasting `shape` up to a's shape).
Tensor sum_to(const Tensor& a, const Shape& shape);

// ---- along a dimension ----
Tensor softmax(const Tensor& a, int64_t dim);
Tensor log_softmax(const Tensor& a, int64_t dim);
// out[i][j] = a[i][index[i][j]] along `dim` (as torch.gather); index is int64.
Tensor gather(const Tensor& a, int64_t dim, const Tensor& index);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);

// ---- linear algebra ----
// 2-D (M,K)x(K,N), 1-D vectors, and batched (..., M, K) x (..., K, N) with broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b);
// y = x W^T + b for x (N, in), W (out, in), b (out) or undefined: one GEMM with the bias fused.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- operators ----
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, float s);
Tensor operator+(float s, const Tensor& a);
Tensor operator-(const Tensor& a, float s);
Tensor operator-(float s, const Tensor& a);
Tensor operator*(const Tensor& a, float s);
Tensor operator*(float s, const Tensor& a);
Tensor operator/(const Tensor& a, float s);
Tensor operator/(float s, const Tensor& a);

// True when both have the same shape and every element is within atol + rtol * |b|.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);

}  // namespace nabla
