#!/usr/bin/env bash
# Checks the layers' include rules (docs/design.md, "The house"): every #include "..." of a file
# names only the layers that file may see. Prints each breach and exits 1 if there is one.
#   public headers  include/nabla/       -> include/nabla/
#   front ends      src/ (not backend/)  -> include/nabla/, src/, kernels/math/
#   the interface   src/backend/         -> include/nabla/, src/backend/, kernels/math/
#   shared math     kernels/math/        -> kernels/math/
#   a backend       kernels/cpu|cuda/    -> include/nabla/, src/backend/, kernels/math/, itself
# Programs, benchmarks and tests use the library as its users do, except the tests of a backend's
# own internals (tests/ may include kernels/ and src/).
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
check() {  # check <folder> <allowed prefixes regex> [excluded folder regex]
  local folder=$1 allowed=$2 excluded=${3:-^$}
  while IFS= read -r line; do
    local file=${line%%:*} target
    target=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"${line#*:}")
    [[ $file =~ $excluded ]] && continue
    # A name relative to the including file's own folder (as "mnist_speedrun.h").
    [[ -e $(dirname "$file")/$target ]] && [[ $target != */* ]] && continue
    if ! [[ $target =~ $allowed ]]; then
      echo "$file includes \"$target\", outside its layer" >&2
      status=1
    fi
  done < <(grep -rHE '^\s*#\s*include "' "$folder" --include='*.h' --include='*.cpp' --include='*.cu' |
           sed -E 's/:[[:space:]]*#[[:space:]]*include/:#include/')
}

check include/nabla '^nabla/'
check src '^(nabla/|kernels/math/|(autograd|backend|core|data|dist|nn|ops|optim|plot|sched|train)/)' '^src/backend/'
check src/backend '^(nabla/|backend/|kernels/math/)'
check kernels/math '^kernels/math/'
check kernels/cpu '^(nabla/|backend/|kernels/math/|kernels/cpu/)'
check kernels/cuda '^(nabla/|backend/|kernels/math/|kernels/cuda/)'
check examples '^(nabla/|examples/)'
check bench '^(nabla/|examples/)'

[[ $status == 0 ]] && echo "layers: every include stays within its layer"
exit $status
