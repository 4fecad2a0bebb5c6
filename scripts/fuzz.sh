#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer, CPU only)
# and fuzzes each parser for SECONDS (default 30), one process per target, all at once:
#   scripts/fuzz.sh [SECONDS] [TARGET...]        targets: idx checkpoint config resume
# Each starts from its seed corpus in fuzz/corpus/<target>/ (new inputs go to the build folder,
# not into the repository). A crash, hang, leak or sanitizer report fails the script; the input
# is left in $build/findings/<target>/: add it to fuzz/corpus/<target>/ once fixed, and
# tests/reliability/fuzz_inputs_test replays it in every build from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(idx checkpoint config resume)
build=${NABLA_FUZZ_BUILD_DIR:-build-fuzz}

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNABLA_FUZZ=ON -DNABLA_CUDA=OFF -DNABLA_BUILD_TESTS=OFF -DNABLA_BUILD_EXAMPLES=OFF \
  -DNABLA_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/%/_fuzz}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export OMP_NUM_THREADS=1
pids=()
for t in "${targets[@]}"; do
  work="$build/corpus/$t" findings="$build/findings/$t"
  mkdir -p "$work" "$findings"
  "$build/fuzz/${t}_fuzz" "$work" "fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 \
    >"$build/$t.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!targets[@]}"; do
  t=${targets[$i]}
  if wait "${pids[$i]}"; then
    echo "fuzz $t: ok ($(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$build/$t.log" | cut -d' ' -f2) runs in ${seconds}s)"
  else
    echo "fuzz $t: FAILED, see $build/$t.log and $build/findings/$t/"
    tail -n 40 "$build/$t.log"
    failed=1
  fi
done
exit $failed
