// CUDA elementwise kernels over the shared math of kernels/math/elementwise.h and
// kernels/math/philox.h: fills, strided copies and casts, random fills, unary, binary and
// where. Kernels first, then the launchers registered with the dispatch stubs.
#include "backend/dispatch.h"
#include "backend/elementwise.h"
#include "backend/layout.h"
#include "backend/random.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/math/elementwise.h"
#include "kernels/math/philox.h"

namespace nabla::cuda_detail {
namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

// ---------------------------------------------------------------- kernels

template <typename T>
__global__ void fill_kernel(T* out, int64_t n, T value) {
  NABLA_GRID_STRIDE_LOOP(i, n) out[i] = value;
}

template <typename Src, typename Dst>
__global__ void copy_kernel(const Src* src, Dst* dst, int64_t n, DeviceLayout<2> layout) {
  NABLA_GRID_STRIDE_LOOP(i, n) {
    int64_t off[2];
    element_offsets(layout, i, off);
    dst[off[1]] = static_cast<Dst>(src[off[0]]);
  }
}

__global__ void rand_kernel(float* out, int64_t n, uint64_t seed, uint64_t offset, bool normal) {
  NABLA_GRID_STRIDE_LOOP(i, n) {
    out[i] =
        normal ? random::philox_normal(seed, offset, i) : random::philox_uniform(seed, offset, i);
  }
}

template <UnaryOp op>
__global__ void unary_kernel(const float* x, float* out, int64_t n, float p0, float p1) {
  NABLA_GRID_STRIDE_LOOP(i, n) out[i] = kernels::unary<op>(x[i], p0, p1);
}

template <BinaryOp op>
__global__ void binary_kernel(const float* a, const float* b, float* out, int64_t n,
                              DeviceLayout<3> layout, float p, float q) {
  NABLA_GRID_STRIDE_LOOP(i, n) {
    int64_t off[3];
    element_offsets(layout, i, off);
    out[off[2]] = kernels::binary<op>(a[off[0]], b[off[1]], p, q);
  }
}

__global__ void where_kernel(const float* c, const float* a, const float* b, float* out, int64_t n,
                             DeviceLayout<4> layout) {
  NABLA_GRID_STRIDE_LOOP(i, n) {
    int64_t off[4];
    element_offsets(layout, i, off);
    out[off[3]] = c[off[0]] != 0.0f ? a[off[1]] : b[off[2]];
  }
}

// ---------------------------------------------------------------- launchers

void fill_cuda(const Tensor& out, double value) {
  const int64_t n = out.numel();
  if (n == 0) return;
  if (out.dtype() == DType::Float32)
    fill_kernel<<<linear_blocks(n), kBlockSize, 0, stream()>>>(out.data<float>(), n,
                                                               static_cast<float>(value));
  else
    fill_kernel<<<linear_blocks(n), kBlockSize, 0, stream()>>>(out.data<int64_t>(), n,
                                                               static_cast<int64_t>(value));
  NABLA_CUDA_CHECK_LAUNCH();
}

template <typename Src, typename Dst>
void copy_typed(const Tensor& src, const Tensor& dst, const DeviceLayout<2>& layout, int64_t n) {
  copy_kernel<<<linear_blocks(n), kBlockSize, 0, stream()>>>(
      static_cast<const Src*>(src.raw_data()), static_cast<Dst*>(dst.raw_data()), n, layout);
}

void copy_strided_cuda(const Tensor& src, const Tensor& dst) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  const auto layout =
      device_layout(ops::StridedLayout<2>(dst.shape(), {&src.strides(), &dst.strides()}));
  const bool sf = src.dtype() == DType::Float32, df = dst.dtype() == DType::Float32;
  if (sf && df)
    copy_typed<float, float>(src, dst, layout, n);
  else if (sf)
    copy_typed<float, int64_t>(src, dst, layout, n);
  else if (df)
    copy_typed<int64_t, float>(src, dst, layout, n);
  else
    copy_typed<int64_t, int64_t>(src, dst, layout, n);
  NABLA_CUDA_CHECK_LAUNCH();
}

void rand_launch(const Tensor& out, uint64_t seed, uint64_t offset, bool normal) {
  check_not_capturing_random(normal ? "randn" : "rand");
  const int64_t n = out.numel();
  if (n == 0) return;
  rand_kernel<<<linear_blocks(n), kBlockSize, 0, stream()>>>(out.data<float>(), n, seed, offset,
                                                             normal);
  NABLA_CUDA_CHECK_LAUNCH();
}
void rand_uniform_cuda(const Tensor& out, uint64_t seed, uint64_t offset) {
  rand_launch(out, seed, offset, false);
}
void rand_normal_cuda(const Tensor& out, uint64_t seed, uint64_t offset) {
  rand_launch(out, seed, offset, true);
}

void unary_cuda(UnaryOp op, const Tensor& x, const Tensor& out, float p0, float p1) {
  const int64_t n = out.numel();
  if (n == 0) return;
  kernels::visit_unary(op, [&]<UnaryOp kOp>() {
    unary_kernel<kOp><<<linear_blocks(n), kBlockSize, 0, stream()>>>(x.data<float>(),
                                                                     out.data<float>(), n, p0, p1);
  });
  NABLA_CUDA_CHECK_LAUNCH();
}

void binary_cuda(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, float p,
                 float q) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const auto layout = device_layout(
      ops::StridedLayout<3>(out.shape(), {&a.strides(), &b.strides(), &out.strides()}));
  kernels::visit_binary(op, [&]<BinaryOp kOp>() {
    binary_kernel<kOp><<<linear_blocks(n), kBlockSize, 0, stream()>>>(
        a.data<float>(), b.data<float>(), out.data<float>(), n, layout, p, q);
  });
  NABLA_CUDA_CHECK_LAUNCH();
}

void where_cuda(const Tensor& c, const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const auto layout = device_layout(ops::StridedLayout<4>(
      out.shape(), {&c.strides(), &a.strides(), &b.strides(), &out.strides()}));
  where_kernel<<<linear_blocks(n), kBlockSize, 0, stream()>>>(
      c.data<float>(), a.data<float>(), b.data<float>(), out.data<float>(), n, layout);
  NABLA_CUDA_CHECK_LAUNCH();
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::backend {
NABLA_REGISTER(fill_stub, cuda, cuda_detail::fill_cuda)
NABLA_REGISTER(copy_strided_stub, cuda, cuda_detail::copy_strided_cuda)
NABLA_REGISTER(rand_uniform_stub, cuda, cuda_detail::rand_uniform_cuda)
NABLA_REGISTER(rand_normal_stub, cuda, cuda_detail::rand_normal_cuda)
NABLA_REGISTER(unary_stub, cuda, cuda_detail::unary_cuda)
NABLA_REGISTER(binary_stub, cuda, cuda_detail::binary_cuda)
NABLA_REGISTER(where_stub, cuda, cuda_detail::where_cuda)
}  // namespace nabla::backend
