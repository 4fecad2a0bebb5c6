#!/usr/bin/env bash
# Installs the built nabla into a temporary prefix, then builds and runs a separate program
# against it twice: a CMake project that finds it with find_package(nabla), and the same source
# compiled with the flags pkg-config gives. A shared library must carry its SONAME.
#   check_install.sh BUILD_DIR CONSUMER_SOURCE_DIR
set -euo pipefail
build=$1 consumer=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Runs a command quietly, and shows what it printed when it fails.
quiet() { "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; return 1; }; }
quiet cmake --install "$build" --prefix "$work/prefix"
libdir=$(find "$work/prefix" -name 'nabla.pc' -printf '%h\n' | head -1)
libdir=${libdir%/pkgconfig}

quiet cmake -S "$consumer" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix"
quiet cmake --build "$work/build"
"$work/build/app"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
quiet c++ "$consumer/app.cpp" -o "$work/app-pc" $(pkg-config --cflags --libs nabla)
LD_LIBRARY_PATH="$libdir" "$work/app-pc"

if [[ -e "$libdir/libnabla.so" ]]; then
  soname=$(readelf -d "$libdir/libnabla.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
  [[ $soname =~ ^libnabla\.so\.[0-9]+\.[0-9]+$ && -e "$libdir/$soname" ]] ||
    { echo "libnabla.so has SONAME '$soname'" >&2; exit 1; }
  echo "SONAME $soname"
fi
