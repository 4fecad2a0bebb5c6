#!/usr/bin/env bash
# The CPU test suite under AddressSanitizer + UndefinedBehaviorSanitizer (g++, NABLA_SANITIZE),
# then the DataLoader tests under ThreadSanitizer:
#   scripts/sanitize.sh [asan|tsan|all]    (default: all)
# ASan/UBSan: the tests of the areas in NABLA_SANITIZE_AREAS (default: all, every CPU test but
# the install check and the mpirun tests, whose uninstrumented programs cannot load an ASan
# library), CUDA off. Any report fails the run.
# TSan: the DataLoader (its prefetch thread and the loader's own synchronisation) and the
# parallel CPU kernels, which run on nabla's own thread pool. See docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
jobs=$(nproc)
common=(-G Ninja -DNABLA_CUDA=OFF -DNABLA_BUILD_EXAMPLES=OFF -DNABLA_BUILD_BENCH=OFF)

if [ "$what" = asan ] || [ "$what" = all ]; then
  build=${NABLA_ASAN_BUILD_DIR:-build-asan}
  cmake -S . -B "$build" "${common[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNABLA_SANITIZE=ON >/dev/null
  areas=${NABLA_SANITIZE_AREAS:-all}
  targets=() labels=()
  if [ "$areas" != all ]; then
    for area in $areas; do
      labels+=("$area")
      for f in tests/"$area"/*_test.cpp; do targets+=("${area}_$(basename "$f" .cpp)"); done
    done
  fi
  start=$SECONDS
  cmake --build "$build" -j "$jobs" ${targets[@]:+--target "${targets[@]}"}
  echo "sanitize: ASan+UBSan build took $((SECONDS - start)) s"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  select=(-LE '^(gpu|install|mpi)$')
  if [ ${#labels[@]} -gt 0 ]; then select=(-L "^($(IFS='|'; echo "${labels[*]}"))\$"); fi
  start=$SECONDS
  (cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 900 "${select[@]}")
  echo "sanitize: ASan+UBSan tests took $((SECONDS - start)) s"
fi

if [ "$what" = tsan ] || [ "$what" = all ]; then
  build=${NABLA_TSAN_BUILD_DIR:-build-tsan}
  cmake -S . -B "$build" "${common[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread -g" -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
    -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
  start=$SECONDS
  tsan_tests=(data_loader_test core_thread_pool_test core_ops_test optim_optimizer_test
              nn_functional_conv_test)
  cmake --build "$build" -j "$jobs" --target "${tsan_tests[@]}"
  echo "sanitize: TSan build took $((SECONDS - start)) s"
  for t in "${tsan_tests[@]}"; do
    OMP_NUM_THREADS=2 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 "$build/tests/$t" \
      --gtest_brief=1
  done
fi
