// CUDA 2-D convolution on cuDNN: forward, backward data and backward filter through the
// convolution API with groups and dilation, and the bias gradient as a per-channel reduction
// (double accumulation, as on the CPU). Each pass's algorithm comes from cuDNN's heuristics,
// filtered by the math switches (FMA only unless TF32 is allowed; deterministic algorithms only
// in deterministic mode) and cached per geometry; its workspace comes from the caching
// allocator.
#include <array>
#include <map>
#include <mutex>
#include <vector>

#include "backend/conv.h"
#include "kernels/cuda/block_reduce.h"
#include "kernels/cuda/cudnn.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"

namespace nabla::cuda_detail {
namespace {

using backend::Conv2dGeometry;

// ---------------------------------------------------------------- kernels

// dbias[ch] = sum of dy (N, C_out, plane) over N and the plane; block ch.
__global__ void conv2d_backward_bias_kernel(const float* dy, float* dbias, int64_t n, int64_t c,
                                            int64_t plane) {
  const int64_t ch = blockIdx.x;
  double acc = 0.0;
  for (int64_t j = threadIdx.x; j < n * plane; j += blockDim.x)
    acc += dy[(j / plane * c + ch) * plane + j % plane];
  acc = block_sum(acc);
  if (threadIdx.x == 0) dbias[ch] = static_cast<float>(acc);
}

// ---------------------------------------------------------------- descriptors and algorithms

enum class Pass { Forward, BackwardData, BackwardFilter };

const char* pass_name(Pass p) {
  switch (p) {
    case Pass::Forward:
      return "forward";
    case Pass::BackwardData:
      return "backward data";
    case Pass::BackwardFilter:
      return "backward filter";
  }
  return "?";
}

// x (N, C_in, H, W), y (N, C_out, OH, OW), w (C_out, C_in / groups, kH, kW).
struct ConvDescriptors {
  TensorDescriptor x, y;
  FilterDescriptor w;
  ConvolutionDescriptor conv;

  explicit ConvDescriptors(const backend::Conv2dGeometry& g) {
    set_nchw(x, g.n, g.c_in, g.h, g.w);
    set_nchw(y, g.n, g.c_out, g.out_h, g.out_w);
    NABLA_CUDNN_CHECK(cudnnSetFilter4dDescriptor(
        w.get(), CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, cudnn_int(g.c_out, "conv2d out channels"),
        cudnn_int(g.c_in / g.groups, "conv2d in channels per group"),
        cudnn_int(g.kh, "conv2d kernel height"), cudnn_int(g.kw, "conv2d kernel width")));
    NABLA_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        conv.get(), cudnn_int(g.pad_h, "conv2d padding"), cudnn_int(g.pad_w, "conv2d padding"),
        cudnn_int(g.stride_h, "conv2d stride"), cudnn_int(g.stride_w, "conv2d stride"),
        cudnn_int(g.dilation_h, "conv2d dilation"), cudnn_int(g.dilation_w, "conv2d dilation"),
        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    NABLA_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv.get(), cudnn_int(g.groups, "groups")));
  }
};

// One heuristic result, whatever the pass.
struct Candidate {
  int algo;
  cudnnStatus_t status;
  cudnnDeterminism_t determinism;
  cudnnMathType_t math;
};

template <typename Perf>
std::vector<Candidate> to_candidates(const std::vector<Perf>& perf, int count) {
  std::vector<Candidate> out;
  for (int i = 0; i < count; ++i)
    out.push_back(
        {static_cast<int>(perf[i].algo), perf[i].status, perf[i].determinism, perf[i].mathType});
  return out;
}

// cuDNN's heuristic ranking for a pass, best first, followed by the pass's plain
// implicit-GEMM algorithm (deterministic and always available) as a last resort.
std::vector<Candidate> heuristics(Pass pass, cudnnHandle_t h, const ConvDescriptors& d) {
  int max = 0, count = 0;
  std::vector<Candidate> out;
  switch (pass) {
    case Pass::Forward: {
      NABLA_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(max));
      NABLA_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(
          h, d.x.get(), d.w.get(), d.conv.get(), d.y.get(), max, &count, perf.data()));
      out = to_candidates(perf, count);
      out.push_back({CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, CUDNN_STATUS_SUCCESS,
                     CUDNN_DETERMINISTIC, CUDNN_FMA_MATH});
      break;
    }
    case Pass::BackwardData: {
      NABLA_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(max));
      NABLA_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
          h, d.w.get(), d.y.get(), d.conv.get(), d.x.get(), max, &count, perf.data()));
      out = to_candidates(perf, count);
      out.push_back({CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, CUDNN_STATUS_SUCCESS, CUDNN_DETERMINISTIC,
                     CUDNN_FMA_MATH});
      break;
    }
    case Pass::BackwardFilter: {
      NABLA_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(max));
      NABLA_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          h, d.x.get(), d.y.get(), d.conv.get(), d.w.get(), max, &count, perf.data()));
      out = to_candidates(perf, count);
      out.push_back({CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, CUDNN_STATUS_SUCCESS, CUDNN_DETERMINISTIC,
                     CUDNN_FMA_MATH});
      break;
    }
  }
  return out;
}

// The workspace an algorithm needs with the descriptor's current math type; an error status
// means the algorithm does not support this configuration.
cudnnStatus_t workspace_size(Pass pass, cudnnHandle_t h, const ConvDescriptors& d, int algo,
                             size_t* bytes) {
  switch (pass) {
    case Pass::Forward:
      return cudnnGetConvolutionForwardWorkspaceSize(
          h, d.x.get(), d.w.get(), d.conv.get(), d.y.get(),
          static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
    case Pass::BackwardData:
      return cudnnGetConvolutionBackwardDataWorkspaceSize(
          h, d.w.get(), d.y.get(), d.conv.get(), d.x.get(),
          static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
    case Pass::BackwardFilter:
      return cudnnGetConvolutionBackwardFilterWorkspaceSize(
          h, d.x.get(), d.y.get(), d.conv.get(), d.w.get(),
          static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
  }
  return CUDNN_STATUS_BAD_PARAM;
}

struct AlgoChoice {
  int algo;
  cudnnMathType_t math;
  size_t workspace;
};

// Everything the choice depends on: the pass, the device, the geometry and the math switches.
using AlgoKey = std::array<int64_t, 18>;

AlgoKey algo_key(Pass pass, const backend::Conv2dGeometry& g, bool tf32, bool det) {
  int device = 0;
  NABLA_CUDA_CHECK(cudaGetDevice(&device));
  return {static_cast<int64_t>(pass),
          device,
          g.n,
          g.c_in,
          g.h,
          g.w,
          g.c_out,
          g.kh,
          g.kw,
          g.stride_h,
          g.stride_w,
          g.pad_h,
          g.pad_w,
          g.dilation_h,
          g.dilation_w,
          g.groups,
          tf32,
          det};
}

// Picks (once per key) the first heuristic candidate that the math switches allow, that
// supports this geometry, and whose workspace fits in half the free memory. Leaves the chosen
// math type set on d.conv.
AlgoChoice choose_algorithm(Pass pass, cudnnHandle_t h, const ConvDescriptors& d,
                            const backend::Conv2dGeometry& g) {
  static std::mutex mutex;
  static std::map<AlgoKey, AlgoChoice> cache;
  const bool tf32 = allow_tf32(), det = deterministic();
  const AlgoKey key = algo_key(pass, g, tf32, det);
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) {
    NABLA_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv.get(), it->second.math));
    return it->second;
  }
  size_t free = 0, total = 0;
  NABLA_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  for (const Candidate& c : heuristics(pass, h, d)) {
    if (c.status != CUDNN_STATUS_SUCCESS) continue;
    if (det && c.determinism != CUDNN_DETERMINISTIC) continue;
    const bool tensor_cores =
        c.math == CUDNN_TENSOR_OP_MATH || c.math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    if (!tf32 && tensor_cores) continue;
    // Without TF32, FMA math: CUDNN_DEFAULT_MATH would let cuDNN use TF32 tensor cores.
    const cudnnMathType_t math = tf32 ? c.math : CUDNN_FMA_MATH;
    NABLA_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv.get(), math));
    size_t bytes = 0;
    if (workspace_size(pass, h, d, c.algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > free / 2)
      continue;
    const AlgoChoice choice{c.algo, math, bytes};
    cache.emplace(key, choice);
    return choice;
  }
  NABLA_FAIL(
      "conv2d: cuDNN offers no usable {} algorithm for input ({}, {}, {}, {}), weight ({}, {}, "
      "{}, {}), groups {}",
      pass_name(pass), g.n, g.c_in, g.h, g.w, g.c_out, g.c_in / g.groups, g.kh, g.kw, g.groups);
}

// Device scratch memory for an algorithm, from the caching allocator (undefined when none).
Tensor workspace(size_t bytes) {
  if (bytes == 0) return Tensor();
  const auto floats = static_cast<int64_t>((bytes + sizeof(float) - 1) / sizeof(float));
  int device = 0;
  NABLA_CUDA_CHECK(cudaGetDevice(&device));
  return Tensor::empty({floats}, {DType::Float32, Device::cuda(device)});
}

void* data_or_null(const Tensor& t) {
  return t.defined() ? t.raw_data() : nullptr;
}

// ---------------------------------------------------------------- launchers

void conv2d_forward_cuda(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& y,
                         const backend::Conv2dGeometry& g) {
  const cudnnHandle_t h = cudnn_handle();
  const ConvDescriptors d(g);
  const AlgoChoice c = choose_algorithm(Pass::Forward, h, d, g);
  const Tensor ws = workspace(c.workspace);
  const float one = 1.0f, zero = 0.0f;
  NABLA_CUDNN_CHECK(
      cudnnConvolutionForward(h, &one, d.x.get(), x.data<float>(), d.w.get(), weight.data<float>(),
                              d.conv.get(), static_cast<cudnnConvolutionFwdAlgo_t>(c.algo),
                              data_or_null(ws), c.workspace, &zero, d.y.get(), y.data<float>()));
  if (bias.defined()) {
    TensorDescriptor b;
    set_nchw(b, 1, g.c_out, 1, 1);
    NABLA_CUDNN_CHECK(
        cudnnAddTensor(h, &one, b.get(), bias.data<float>(), &one, d.y.get(), y.data<float>()));
  }
}

void conv2d_backward_data_cuda(const Tensor& dy, const Tensor& weight, const Tensor& dx,
                               const backend::Conv2dGeometry& g) {
  const cudnnHandle_t h = cudnn_handle();
  const ConvDescriptors d(g);
  const AlgoChoice c = choose_algorithm(Pass::BackwardData, h, d, g);
  const Tensor ws = workspace(c.workspace);
  const float one = 1.0f, zero = 0.0f;
  NABLA_CUDNN_CHECK(cudnnConvolutionBackwardData(
      h, &one, d.w.get(), weight.data<float>(), d.y.get(), dy.data<float>(), d.conv.get(),
      static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo), data_or_null(ws), c.workspace, &zero,
      d.x.get(), dx.data<float>()));
}

void conv2d_backward_filter_cuda(const Tensor& dy, const Tensor& x, const Tensor& dweight,
                                 const backend::Conv2dGeometry& g) {
  const cudnnHandle_t h = cudnn_handle();
  const ConvDescriptors d(g);
  const AlgoChoice c = choose_algorithm(Pass::BackwardFilter, h, d, g);
  const Tensor ws = workspace(c.workspace);
  const float one = 1.0f, zero = 0.0f;
  NABLA_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
      h, &one, d.x.get(), x.data<float>(), d.y.get(), dy.data<float>(), d.conv.get(),
      static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), data_or_null(ws), c.workspace, &zero,
      d.w.get(), dweight.data<float>()));
}

void conv2d_backward_bias_cuda(const Tensor& dy, const Tensor& dbias,
                               const backend::Conv2dGeometry& g) {
  if (g.c_out == 0) return;
  const int64_t plane = g.out_h * g.out_w;
  conv2d_backward_bias_kernel<<<cudnn_int(g.c_out, "conv2d out channels"),
                                reduction_block_size(g.n * plane), 0, stream()>>>(
      dy.data<float>(), dbias.data<float>(), g.n, g.c_out, plane);
  NABLA_CUDA_CHECK_LAUNCH();
}

}  // namespace
}  // namespace nabla::cuda_detail

namespace nabla::backend {
NABLA_REGISTER(conv2d_forward_stub, cuda, cuda_detail::conv2d_forward_cuda)
NABLA_REGISTER(conv2d_backward_data_stub, cuda, cuda_detail::conv2d_backward_data_cuda)
NABLA_REGISTER(conv2d_backward_filter_stub, cuda, cuda_detail::conv2d_backward_filter_cuda)
NABLA_REGISTER(conv2d_backward_bias_stub, cuda, cuda_detail::conv2d_backward_bias_cuda)
}  // namespace nabla::backend
