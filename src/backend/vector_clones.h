// How the CPU backend compiles its hot loops, for the few loops outside it that convert a data set
// once (data::MNIST's pixels).
#pragma once

// A hot loop compiled for AVX-512, AVX2 and the baseline, chosen at load time: the baseline's
// 4-wide vectors run it at a quarter of the machine's speed. The AVX-512 clone may fuse a
// multiply and an add (FMA) that the others round separately, unless the file is built with
// -ffp-contract=off (as kernels/cpu/optim.cpp is). ThreadSanitizer's runtime is not up yet when the
// loader runs the clones' resolver, so a TSan build gets the baseline only.
#if defined(__SANITIZE_THREAD__)
#define NABLA_VECTOR_CLONES
#else
#define NABLA_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
// The same for a function template; Clang does not multiversion templates yet, so a Clang build
// (the fuzz targets) gets the baseline only there.
#if defined(__clang__)
#define NABLA_VECTOR_CLONES_TEMPLATE
#else
#define NABLA_VECTOR_CLONES_TEMPLATE NABLA_VECTOR_CLONES
#endif
