#!/usr/bin/env bash
# Installs the Debian packages nabla needs to build, test and run its examples, and only those
# that are missing (so a second run does nothing). Needs root or sudo for apt-get.
#   scripts/install-deps.sh [package...]    (the packages given instead of nabla's list)
# The CUDA toolkit with cuBLAS and cuDNN is not a Debian package: when nvcc is present the
# build uses it; otherwise nabla builds for the CPU only. OpenMPI enables distributed training
# (NABLA_MPI) and its 2-process tests.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas-dev zlib1g-dev libssl-dev nlohmann-json3-dev libtomlplusplus-dev
  dataset-fashion-mnist
  libopenmpi-dev openmpi-bin
  clang libclang-rt-dev  # the fuzz targets: libFuzzer and the sanitizers
  clang-format-14        # scripts/check-format.sh
  chromium librsvg2-bin  # the figure page's rendering test
)
if [ $# -gt 0 ]; then packages=("$@"); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "nabla: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
