#!/usr/bin/env bash
# Builds nabla as a static library (BUILD_SHARED_LIBS=OFF, CPU backend), installs it and builds a
# separate program against it through find_package and through pkg-config
# (tests/install/check_install.sh). The archive is linked whole, so the backends' registrations
# run: the program's first op would fail otherwise.
#   scripts/check-static.sh            (NABLA_STATIC_BUILD_DIR, default build-static)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${NABLA_STATIC_BUILD_DIR:-build-static}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DNABLA_CUDA=OFF -DNABLA_BUILD_TESTS=OFF -DNABLA_BUILD_EXAMPLES=OFF -DNABLA_BUILD_BENCH=OFF \
  "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
tests/install/check_install.sh "$build" tests/install/consumer
echo "check-static: the static library installs and links"
