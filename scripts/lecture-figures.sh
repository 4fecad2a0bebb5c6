#!/usr/bin/env bash
# Regenerates the lecture's figures with nabla's own optimizers and schedulers, into one folder
# with an index.html that shows them all:
#   scripts/lecture-figures.sh [OUT_DIR]          (default: figures/)
# The learning-rate schedules, classical momentum against Nesterov, optimizer paths on the test
# functions, every optimizer's training loss on MNIST, learning-rate decay in a real run, and
# the weight-initialisation table. About two minutes on two cores.
#
# Environment:
#   NABLA_BUILD_DIR     the build folder the example programs are built into (default: build)
#   NABLA_EXAMPLES_DIR  run the programs from this folder instead, building nothing
#   MNIST_DIR           the data (default: what the programs find: data/mnist, real MNIST in the
#                       cache, else Fashion-MNIST)
#   FIGURES_QUICK=1     a few seconds: little training, no initialisation table
#   FIGURES_EPOCHS      epochs of the optimizer comparison (default: 2)
#   INIT_EPOCHS         epochs of each initialisation run (default: 10, as the lecture trained)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-figures}
quick=${FIGURES_QUICK:-0}
programs=(lr_schedules optimizer_paths compare_optimizers mnist_mlp plot_metrics mnist_cnn)

if [ -n "${NABLA_EXAMPLES_DIR:-}" ]; then
  bin=$NABLA_EXAMPLES_DIR
else
  build=${NABLA_BUILD_DIR:-build}
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$build" -j "$(nproc)" --target "${programs[@]}"
  bin=$build/examples
fi
bin=$(cd "$bin" && pwd)
# The programs look for data/ in their working folder, which is about to change.
if [ -z "${MNIST_DIR:-}" ] && [ -f data/mnist/train-images-idx3-ubyte ]; then
  MNIST_DIR=$PWD/data/mnist
fi
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
# The programs run in a scratch folder: whatever else they write stays out of the tree.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
data=()
[ -z "${MNIST_DIR:-}" ] || data=(--data "$MNIST_DIR")

if [ "$quick" = 1 ]; then
  compare=(--epochs 1 --train-size 2000 --hidden 32)
  decay=(--epochs 2 --hidden 32)
else
  compare=(--epochs "${FIGURES_EPOCHS:-2}")
  decay=(--epochs 8)
fi

# Runs a program, its output kept in logs/NAME.txt.
step() {
  local name=$1
  shift
  echo "== $name"
  "$@" >"$out/logs/$name.txt" 2>&1 || { cat "$out/logs/$name.txt"; echo "$name failed" >&2; exit 1; }
}

step schedules "$bin/lr_schedules" --out "$out"
mkdir -p momentum
step momentum "$bin/optimizer_paths" --out momentum --functions ravine \
  --only sgd,momentum,nesterov --layout overlay --loss on --lr 0.02 --steps 150
mv momentum/paths-ravine.svg "$out/momentum-paths.svg"
mv momentum/loss-ravine.svg "$out/momentum-loss.svg"
step paths "$bin/optimizer_paths" --out "$out"
step optimizers "$bin/compare_optimizers" "${data[@]}" "${compare[@]}" --progress off \
  --plot "$out/optimizers-mnist.svg"
step constant-lr "$bin/mnist_mlp" "${data[@]}" "${decay[@]}" --progress off --optimizer sgd \
  --lr 0.1 --metrics constant-lr.jsonl
step exponential-decay "$bin/mnist_mlp" "${data[@]}" "${decay[@]}" --progress off \
  --optimizer sgd --lr 0.1 --scheduler exponential --gamma 0.7 --metrics exponential-decay.jsonl
step lr-decay "$bin/plot_metrics" constant-lr.jsonl exponential-decay.jsonl "$out/lr-decay.svg"
if [ "$quick" != 1 ]; then
  step init "$bin/mnist_cnn" "${data[@]}" --init all --epochs "${INIT_EPOCHS:-10}" --progress off
fi

# ---------------------------------------------------------------- the page
html_text() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }
# A table of a log: from its last line that starts with $2 to the next empty line (the whole log
# when no line starts so).
table_of() {
  awk -v start="$2" 'index($0, start) == 1 { table = ""; found = 1; open = 1 }
                     found && $0 == "" { open = 0 }
                     !found || open { table = table $0 "\n" }
                     END { printf "%s", table }' "$1" | html_text
}
figure() {  # FILE CAPTION
  printf '<figure><img src="%s" alt="%s"><figcaption>%s</figcaption></figure>\n' "$1" "$1" "$2"
}
dataset=$(sed -n 's/^data: \([^(;]*[^(; ]\).*/\1/p' "$out/logs/optimizers.txt" | head -n 1)
{
  cat <<'HTML'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>nabla: the lecture's figures</title>
<style>
body { font-family: sans-serif; max-width: 1240px; margin: 2em auto; padding: 0 1em; color: #222; }
h2 { margin-top: 2.2em; border-bottom: 1px solid #ddd; }
figure { margin: 1.2em 0; }
img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; margin-top: .4em; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; }
.pair { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.pair figure { flex: 1 1 520px; margin: 1.2em 0 0; }
.pair img { width: 100%; }
</style></head><body>
<h1>Common optimization algorithms: the figures</h1>
HTML
  echo "<p>Computed by nabla's own schedulers and optimizers${dataset:+; data: $(echo "$dataset" | html_text)}."
  echo "Regenerate with <code>scripts/lecture-figures.sh</code>.</p>"

  echo "<h2>1. Learning-rate schedules</h2>"
  figure schedules.svg "Each curve is the learning rate that nabla's scheduler sets on an SGD \
optimizer, stepped once per epoch (the cyclical policy once per iteration): exponential decay, \
halving every 10 epochs, inverse decay, Smith's triangular policy and a LambdaLR."

  echo "<h2>2. Classical momentum against Nesterov</h2>"
  echo '<div class="pair">'
  figure momentum-paths.svg "The ill-conditioned quadratic 0.5x&sup2; + 10y&sup2; with step size \
0.02: plain SGD crawls along the valley, classical momentum (0.9) overshoots across it, Nesterov's \
look-ahead gradient damps the overshoot."
  figure momentum-loss.svg "The same runs: distance to the minimum value per step (log scale)."
  echo '</div>'

  echo "<h2>3. Optimizer paths on test functions</h2>"
  for f in rosenbrock beale ravine saddle; do
    case $f in
      rosenbrock) caption="Rosenbrock's curved valley, minimum at (1, 1) (black dot)." ;;
      beale) caption="Beale's function: flat plateaus and steep walls, minimum at (3, 0.5)." ;;
      ravine) caption="An ill-conditioned quadratic (condition number 20) at each optimizer's usual \
step size: the momentum methods oscillate across the valley." ;;
      saddle) caption="A saddle at (0, 0) between minima at (0, &plusmn;1), starting just off the \
ridge." ;;
    esac
    figure "paths-$f.svg" "$caption One panel per optimizer: filled dot the start, ring the end."
  done

  echo "<h2>4. Training curves of the optimizers</h2>"
  figure optimizers-mnist.svg "The same MLP, initial weights and data order for every optimizer; \
each panel shows one optimizer's training loss in colour over the others' in grey."
  echo "<pre>$(table_of "$out/logs/optimizers.txt" optimizer)</pre>"

  echo "<h2>5. Learning-rate decay in a training run</h2>"
  echo '<div class="pair">'
  figure lr-decay.svg "SGD (lr 0.1) with a constant rate and with ExponentialLR (gamma 0.7): \
training solid, test dashed, one colour per run."
  figure lr-decay-accuracy.svg "The accuracies of the same runs."
  echo '</div>'

  echo "<h2>6. Weight initialisation</h2>"
  if [ -f "$out/logs/init.txt" ]; then
    echo "<p>The lecture's experiment: the small CNN trained once per initialisation scheme from \
the same seed (${INIT_EPOCHS:-10} epoch(s) here).</p>"
    echo "<pre>$(table_of "$out/logs/init.txt" "test accuracy on")</pre>"
  else
    echo "<p>Skipped in quick mode (FIGURES_QUICK=1).</p>"
  fi
  echo "</body></html>"
} >"$out/index.html"
echo "figures: $out/index.html"
