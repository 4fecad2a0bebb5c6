#!/usr/bin/env bash
# The main job: installs what is missing, builds nabla and trains the MNIST MLP.
#   scripts/run-mnist.sh [mnist_mlp flags]     (scripts/run-mnist.sh --help lists them)
# Real MNIST is used when --data (or data/mnist/) holds its files; otherwise Fashion-MNIST from
# Debian's dataset-fashion-mnist package.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${NABLA_BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target mnist_mlp
exec "$build/examples/mnist_mlp" "$@"
