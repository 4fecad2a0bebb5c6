#!/usr/bin/env bash
# The check for a machine with a CUDA device: builds nabla with the CUDA backend, runs the whole
# test suite, runs the GPU parity tests again and fails if any of them skipped, runs the GPU
# benchmarks and the MNIST example when they are built, and prints a summary table. Every step
# writes its log under <build>/gpu-check/; a missing binary is reported, not an error.
#   scripts/gpu-check.sh [extra cmake arguments]
# Environment: NABLA_BUILD_DIR (default build-gpu), NABLA_JOBS (default: all cores).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

build=${NABLA_BUILD_DIR:-build-gpu}
jobs=${NABLA_JOBS:-$(nproc)}
logs=$build/gpu-check
mkdir -p "$logs"

names=() statuses=() seconds=() notes=()
failed=0

# record NAME STATUS SECONDS NOTE
record() {
  names+=("$1") statuses+=("$2") seconds+=("$3") notes+=("$4")
  [ "$2" = FAIL ] && failed=1
  printf '==> %-12s %-4s %4ss  %s\n' "$1" "$2" "$3" "$4"
}

# run NAME TIMEOUT_S COMMAND...: runs COMMAND with its output in $logs/NAME.log; returns its
# status. The caller records the result.
run() {
  local name=$1 limit=$2
  shift 2
  echo "==> $name: $*"
  local start=$SECONDS
  timeout "$limit" "$@" >"$logs/$name.log" 2>&1
  local rc=$?
  elapsed=$((SECONDS - start))
  [ $rc -eq 124 ] && echo "    timed out after ${limit}s" >>"$logs/$name.log"
  return $rc
}

summary() {
  echo
  printf '%-12s %-6s %6s  %s\n' step status time note
  printf '%-12s %-6s %6s  %s\n' ---- ------ ---- ----
  for i in "${!names[@]}"; do
    printf '%-12s %-6s %5ss  %s\n' "${names[$i]}" "${statuses[$i]}" "${seconds[$i]}" "${notes[$i]}"
  done
  echo
  if [ $failed -eq 0 ]; then
    echo "gpu-check: all steps passed"
  else
    echo "gpu-check: FAILED (logs in $logs)"
  fi
}

# 0. The device itself (informational: without one, the parity step fails below).
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >"$logs/device.log" 2>&1; then
  record device ok 0 "$(head -n 1 "$logs/device.log")"
else
  record device FAIL 0 "no CUDA device visible (nvidia-smi)"
fi

# 1. Configure and build with the CUDA backend.
if run configure 120 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DNABLA_CUDA=ON "$@"; then
  record configure ok "$elapsed" ""
else
  record configure FAIL "$elapsed" "see $logs/configure.log"
  summary
  exit 1
fi
if run build 360 cmake --build "$build" -j "$jobs"; then
  record build ok "$elapsed" ""
else
  record build FAIL "$elapsed" "$(grep -m 1 -E 'error' "$logs/build.log")"
  summary
  exit 1
fi

# 2. The whole test suite.
if run ctest 240 ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 120; then
  record ctest ok "$elapsed" "$(grep -m 1 -E 'tests passed' "$logs/ctest.log")"
else
  record ctest FAIL "$elapsed" "$(grep -m 1 -E 'tests passed|tests failed' "$logs/ctest.log")"
fi

# 3. The GPU parity tests, verbose so that each test's own output shows: on this machine a skip
#    (no device seen, CUDA not compiled in) is a failure.
run gpu-parity 180 ctest --test-dir "$build" -L gpu -V --timeout 120
rc=$?
ran=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#' "$logs/gpu-parity.log")
skipped=$(grep -oE '\[  SKIPPED \] [[:alnum:]_]+\.[[:alnum:]_/]+' "$logs/gpu-parity.log" |
  sort -u | wc -l)
if [ $rc -eq 0 ] && [ "$ran" -gt 0 ] && [ "$skipped" -eq 0 ]; then
  record gpu-parity ok "$elapsed" "$ran tests, none skipped"
else
  record gpu-parity FAIL "$elapsed" "$ran tests, $skipped skipped, ctest status $rc"
fi

# 4. GPU benchmarks and the example, when built.
if [ -x "$build/bench/optim_bench" ]; then
  if run optim-bench 120 "$build/bench/optim_bench" --benchmark_filter='[Cc][Uu][Dd][Aa]'; then
    record optim-bench ok "$elapsed" "see $logs/optim-bench.log"
  else
    record optim-bench FAIL "$elapsed" "see $logs/optim-bench.log"
  fi
else
  record optim-bench n/a 0 "bench/optim_bench not built"
fi
if [ -x "$build/examples/mnist_mlp" ]; then
  if run mnist-mlp 180 "$build/examples/mnist_mlp" --device cuda --epochs 1; then
    record mnist-mlp ok "$elapsed" "$(tail -n 1 "$logs/mnist-mlp.log")"
  else
    record mnist-mlp FAIL "$elapsed" "$(tail -n 1 "$logs/mnist-mlp.log")"
  fi
else
  record mnist-mlp n/a 0 "examples/mnist_mlp not built"
fi

# 5. Summary.
summary
exit $failed
