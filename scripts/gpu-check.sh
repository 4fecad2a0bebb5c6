#!/usr/bin/env bash
# The check for a machine with a CUDA device: builds nabla with the CUDA backend, runs the whole
# test suite, runs the GPU parity tests again and fails if any of them skipped, runs the GPU
# benchmarks (copy bandwidth, GEMM and the fused optimizer steps; the three reference workloads
# on the device for nabla, the MLPs also with the captured CUDA graph step and with the data on
# the device, and, where its python3 has a CUDA PyTorch, for PyTorch), the MNIST example with and
# without the graph, a 784-4096-4096-10 MLP at batch 1024 in fp32 and in bf16 (arithmetic-bound:
# the tensor cores' gain, and the accuracy after the same epochs), and prints a summary table. Every step writes its log under <build>/gpu-check/; a
# missing binary is reported, not an error. Must finish in under 8 minutes on one H200.
#   scripts/gpu-check.sh [extra cmake arguments]
# Environment: NABLA_BUILD_DIR (default build-gpu), NABLA_JOBS (default: all cores),
# NABLA_PREBUILT=1 to use the build in NABLA_BUILD_DIR as it is (made elsewhere, for example by
# scripts/gpu-bundle.sh on a machine with the build dependencies), NABLA_EPOCHS (default 3) for
# the workloads.
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

# 1. Configure and build with the CUDA backend, or take the prebuilt tree and find the shared
#    libraries it needs that this machine's loader does not (CUDA libraries installed by pip or
#    outside the loader's path).
if [ "${NABLA_PREBUILT:-0}" = 1 ]; then
  # scripts/gpu-bundle.sh puts the non-CUDA libraries the tree needs in bundle-lib/.
  [ -d "$build/bundle-lib" ] &&
    export LD_LIBRARY_PATH="$(realpath "$build/bundle-lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # ... and its C++ runtime, used only where this machine's is older than the one built against.
  if ldd "$build/libnabla.so" 2>&1 | grep -q "version .GLIBCXX_.* not found" &&
    [ -d "$build/bundle-lib/cxx" ]; then
    export LD_LIBRARY_PATH="$(realpath "$build/bundle-lib/cxx"):$LD_LIBRARY_PATH"
  fi
  missing=$(ldd "$build/libnabla.so" 2>&1 | awk '/not found/ {print $1}')
  for lib in $missing; do
    found=$(find /usr /opt -name "$lib" -not -path '*/stubs/*' 2>/dev/null | head -n 1)
    [ -n "$found" ] && export LD_LIBRARY_PATH="$(dirname "$found")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
  still=$(ldd "$build/libnabla.so" 2>&1 | awk '/not found/ {print $1}' | tr '\n' ' ')
  if [ -n "$still" ]; then
    record prebuilt FAIL 0 "libraries not found: $still"
    summary
    exit 1
  fi
  record prebuilt ok 0 "$build"
elif run configure 120 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DNABLA_CUDA=ON "$@"; then
  record configure ok "$elapsed" ""
else
  record configure FAIL "$elapsed" "see $logs/configure.log"
  summary
  exit 1
fi
if [ "${NABLA_PREBUILT:-0}" = 1 ]; then
  :
elif run build 360 cmake --build "$build" -j "$jobs"; then
  record build ok "$elapsed" ""
else
  record build FAIL "$elapsed" "$(grep -m 1 -E 'error' "$logs/build.log")"
  summary
  exit 1
fi

# 2. The whole test suite (the install check builds a consumer project: not for a prebuilt tree).
exclude=()
[ "${NABLA_PREBUILT:-0}" = 1 ] && exclude=(-LE install)
if run ctest 240 ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 120 \
  "${exclude[@]}"; then
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

# 3b. The GPU test programs again under compute-sanitizer's memcheck, where it is installed:
#     out-of-bounds and misaligned device accesses, and CUDA calls that failed unchecked.
gpu_tests=("$build"/tests/gpu_*_test "$build"/tests/optim_cuda_test)
if ! command -v compute-sanitizer >/dev/null 2>&1; then
  record memcheck n/a 0 "compute-sanitizer not installed"
else
  start=$SECONDS rc=0
  for t in "${gpu_tests[@]}"; do
    [ -x "$t" ] || continue
    # API errors are not reported: the library checks every CUDA call's status itself, and the
    # graph tests make a capture fail on purpose.
    timeout 120 compute-sanitizer --tool memcheck --report-api-errors no --error-exitcode 1 "$t" \
      >>"$logs/memcheck.log" 2>&1 || rc=1
  done
  if [ $rc -eq 0 ]; then
    record memcheck ok $((SECONDS - start)) "${#gpu_tests[@]} programs, no error"
  else
    record memcheck FAIL $((SECONDS - start)) "$(grep -m 1 -E 'ERROR SUMMARY: [1-9]|Invalid|FAILED' "$logs/memcheck.log")"
  fi
fi

# 4. GPU benchmarks and the example, when built.
# bench NAME TIMEOUT_S NOTE COMMAND...: runs an optional step whose binary may be missing.
bench() {
  local name=$1 limit=$2 note=$3
  shift 3
  if [ ! -x "$1" ]; then
    record "$name" n/a 0 "$1 not built"
  elif run "$name" "$limit" "$@"; then
    record "$name" ok "$elapsed" "$note"
  else
    record "$name" FAIL "$elapsed" "$(grep -v "^ *$" "$logs/$name.log" | tail -n 1)"
  fi
}
bench gpu-bench 90 "see $logs/gpu-bench.log" "$build/bench/gpu_bench"
epochs=${NABLA_EPOCHS:-3}
for w in w1 w2 w3; do
  bench "$w-nabla" 120 "$epochs epochs on the device" \
    "$build/bench/workloads_bench" "$w" --device cuda --epochs "$epochs"
  if [ "$w" != w3 ]; then  # the MLPs: small, launch-bound steps
    bench "$w-graph" 120 "$epochs epochs, CUDA graph" \
      "$build/bench/workloads_bench" "$w" --device cuda --epochs "$epochs" --cuda-graph
    bench "$w-resident" 120 "$epochs epochs, CUDA graph, data on the device" \
      "$build/bench/workloads_bench" "$w" --device cuda --epochs "$epochs" --cuda-graph \
      --data-on-device
  fi
  if python3 -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' 2>/dev/null; then
    bench "$w-pytorch" 120 "$epochs epochs on the device" \
      "$(command -v python3)" bench/peers/torch_workloads.py "$w" --device cuda --epochs "$epochs"
  fi
done
bench mnist-mlp 180 "see $logs/mnist-mlp.log" \
  "$build/examples/mnist_mlp" --device cuda --epochs 1
bench mnist-graph 180 "see $logs/mnist-graph.log" \
  "$build/examples/mnist_mlp" --device cuda --epochs 1 --cuda-graph
for p in fp32 bf16; do
  bench "big-$p" 180 "see $logs/big-$p.log" \
    "$build/examples/mnist_mlp" --device cuda --epochs 2 --hidden 4096,4096 --batch-size 1024 \
    --lr 0.05 --precision "$p" --data-on-device --progress lines
done

# 5. Summary, with the benchmark results.
[ -f "$logs/gpu-bench.log" ] && cat "$logs/gpu-bench.log"
cat "$logs"/w?-*.log 2>/dev/null | grep '^{'
for p in fp32 bf16; do
  [ -f "$logs/big-$p.log" ] && echo "big MLP, $p: $(grep -E 'epoch 2|test accuracy' "$logs/big-$p.log" | tr '\n' ' ')"
done
summary
exit $failed
