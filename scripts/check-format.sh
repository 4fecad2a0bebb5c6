#!/usr/bin/env bash
# Every tracked C++ and CUDA source as the root .clang-format lays it out (clang-format 14, the
# Debian 12 one, since another version may lay out the same file differently). Prints the
# differences and fails on any: `clang-format-14 -i FILE` fixes one.
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-clang-format-14}
git ls-files -z -- '*.h' '*.cpp' '*.cu' | xargs -0 "$clang_format" --dry-run -Werror
echo "check-format: $(git ls-files -- '*.h' '*.cpp' '*.cu' | wc -l) files formatted"
