#!/usr/bin/env bash
# Installs what is missing, builds nabla (with the CUDA backend wherever nvcc, cuBLAS and cuDNN
# are found) and runs the whole test suite. GPU tests skip themselves without a device.
#   scripts/test.sh [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/get-mnist.sh || true  # without network: Fashion-MNIST, as it says
build=${NABLA_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 600
