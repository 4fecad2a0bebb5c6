#!/usr/bin/env bash
# The main job: installs what is missing, builds nabla and trains the MNIST MLP.
#   scripts/run-mnist.sh [mnist_mlp flags]     (scripts/run-mnist.sh --help lists them)
# Trains on real MNIST, fetched and verified by scripts/get-mnist.sh on the first run; without
# network, on Fashion-MNIST from Debian's dataset-fashion-mnist package (--dataset and --data
# choose).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/get-mnist.sh || true  # without network: Fashion-MNIST, as it says
build=${NABLA_BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target mnist_mlp
exec "$build/examples/mnist_mlp" "$@"
