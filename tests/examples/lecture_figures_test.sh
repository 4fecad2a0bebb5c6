#!/usr/bin/env bash
# scripts/lecture-figures.sh in quick mode, into a scratch folder: the page exists, every image it
# shows exists, is not empty and parses (rsvg-convert), headless Chromium loads every image, and
# its screenshot of the page is not blank.
#   lecture_figures_test.sh SOURCE_DIR EXAMPLES_DIR
# Skips (exit 77) without chromium or rsvg-convert, or without MNIST-format data.
set -euo pipefail
source_dir=$1 examples_dir=$2
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "skipped: no chromium (apt install chromium)"; exit 77; }
command -v rsvg-convert >/dev/null ||
  { echo "skipped: no rsvg-convert (apt install librsvg2-bin)"; exit 77; }
cache=${XDG_CACHE_HOME:-$HOME/.cache}/nabla/mnist
if [ ! -f "$cache/train-images-idx3-ubyte" ] &&
  [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "skipped: no MNIST-format data (scripts/get-mnist.sh, or apt install dataset-fashion-mnist)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAILED: $*"; exit 1; }

NABLA_EXAMPLES_DIR=$examples_dir FIGURES_QUICK=1 "$source_dir/scripts/lecture-figures.sh" \
  "$tmp/figures"
page=$tmp/figures/index.html
[ -s "$page" ] || fail "no index.html"

images=$(grep -o '<img src="[^"]*"' "$page" | sed 's/<img src="//; s/"$//')
[ "$(echo "$images" | wc -l)" -ge 10 ] || fail "the page shows only: $images"
for image in $images; do
  file=$tmp/figures/$image
  [ -s "$file" ] || fail "$image is missing or empty"
  rsvg-convert -o "$tmp/one.png" "$file" || fail "$image does not parse"
done

# Chromium's own verdict on every image, written into the page by a script when it has loaded.
sed 's|</body>|<script>addEventListener("load", () => { const bad = [...document.images].filter(i => !i.complete \|\| i.naturalWidth === 0).map(i => i.getAttribute("src")); document.body.dataset.check = bad.length ? "broken " + bad.join(" ") : "loaded " + document.images.length; });</script></body>|' \
  "$page" >"$tmp/figures/check.html"
chrome() {
  "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
    --virtual-time-budget=10000 "$@" 2>"$tmp/chromium.log"
}
verdict=$(chrome --dump-dom "file://$tmp/figures/check.html" | grep -o 'data-check="[^"]*"' || true)
echo "chromium: $verdict"
[[ $verdict == 'data-check="loaded '* ]] || fail "chromium: ${verdict:-no verdict} $(tail -3 "$tmp/chromium.log")"

chrome --window-size=1400,3000 --screenshot="$tmp/page.png" "file://$page" >/dev/null
[ -s "$tmp/page.png" ] || fail "no screenshot"
# A PNG of 1400 x 3000 pixels; a blank page compresses to a few kilobytes, the figures to hundreds.
signature=$(od -An -tx1 -N8 "$tmp/page.png" | tr -d ' \n')
[ "$signature" = 89504e470d0a1a0a ] || fail "the screenshot is not a PNG"
size=$(od -An -tu1 -j16 -N8 "$tmp/page.png" | awk '{ print $3 * 256 + $4, $7 * 256 + $8 }')
[ "$size" = "1400 3000" ] || fail "the screenshot is $size pixels"
bytes=$(wc -c <"$tmp/page.png")
[ "$bytes" -gt 100000 ] || fail "the screenshot looks blank ($bytes bytes)"
echo "ok: $(echo "$images" | wc -l) figures, screenshot $bytes bytes"
