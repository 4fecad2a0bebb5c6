// NABLA_HD marks a function that both the CPU loops and the CUDA kernels call, so that each
// piece of elementwise math is written once and the CPU tests prove what the GPU runs.
#pragma once

#if defined(__CUDACC__)
#define NABLA_HD __host__ __device__ __forceinline__
#else
#define NABLA_HD inline
#endif
