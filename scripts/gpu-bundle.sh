#!/usr/bin/env bash
# Builds nabla with the CUDA backend on this machine and packs the built tree (libnabla, tests,
# benchmarks, examples and the CTest files) with the shared libraries it needs beyond the C/C++
# runtime and CUDA's own, for a GPU machine that has the CUDA libraries but not the build
# dependencies. There, unpack it into a checkout of the same commit at the same absolute path
# (the CTest files name their programs by absolute path) and run
#   NABLA_PREBUILT=1 scripts/gpu-check.sh
#
#   scripts/gpu-bundle.sh OUT.tar.xz [extra cmake arguments]
# Environment: NABLA_BUILD_DIR (default build-gpu), NABLA_JOBS (default: all cores). The build
# targets sm_90 (Hopper) unless CMAKE_CUDA_ARCHITECTURES is given; MPI is left out (the target
# has no MPI runtime to match).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/gpu-bundle.sh OUT.tar.xz [cmake arguments]" >&2; exit 2; }
out=$(realpath -m "$1")
shift
build=${NABLA_BUILD_DIR:-build-gpu}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNABLA_CUDA=ON -DNABLA_MPI=OFF \
  -DCMAKE_CUDA_ARCHITECTURES=90 "$@"
cmake --build "$build" -j "${NABLA_JOBS:-$(nproc)}"

# The shared libraries of every program in the tree that come from the system's library folders,
# less the C and C++ runtime (the target has its own, newer ones) and CUDA (the target's).
libs=$build/bundle-lib
rm -rf "$libs"
mkdir -p "$libs"
find "$build" -type f -perm -u+x -not -path '*/CMakeFiles/*' -print0 |
  xargs -0 ldd 2>/dev/null |
  awk '$2 == "=>" && $3 ~ "^/(usr/)?lib/" {print $3}' |
  grep -vE '/(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so' |
  sort -u | xargs -r -I{} cp -L {} "$libs/"
# The C++ runtime goes apart, for a target whose own is older than the one built against
# (scripts/gpu-check.sh uses it only then).
mkdir -p "$libs/cxx"
cp -L "$(g++ -print-file-name=libstdc++.so.6)" "$(g++ -print-file-name=libgcc_s.so.1)" "$libs/cxx/"

tar -C / -cJf "$out" --exclude=CMakeFiles --exclude='*.o' --exclude='*.a' --exclude='.ninja_*' \
  --exclude=build.ninja --exclude=gpu-check "$(realpath "$build" | cut -c2-)"
echo "wrote $out ($(du -h "$out" | cut -f1)): $(ls "$libs" | tr '\n' ' ')"
