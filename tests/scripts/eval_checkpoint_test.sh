#!/usr/bin/env bash
# tools/eval_checkpoint.py reads a checkpoint that mnist_mlp wrote and, in PyTorch, from what the
# file says alone (its model, data digests and normalisation), gets the test accuracy and loss
# that nabla printed; pointed at other data, it refuses.
#   eval_checkpoint_test.sh SOURCE_DIR MNIST_MLP
# Skips (exit 77) without PyTorch or without Fashion-MNIST.
set -euo pipefail
source_dir=$1 mnist_mlp=$2
fashion=/usr/share/datasets/fashion-mnist
python=""
for p in /usr/bin/python3 python3; do
  if "$p" -c "import torch, numpy" 2>/dev/null; then python=$p; break; fi
done
[ -n "$python" ] || { echo "skipped: no python3 with torch and numpy (apt install python3-torch)"; exit 77; }
[ -f "$fashion/train-images-idx3-ubyte.gz" ] || { echo "skipped: no Fashion-MNIST in $fashion"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

"$mnist_mlp" --data "$fashion" --epochs 1 --hidden 32 --progress off --threads 1 \
  --checkpoint-dir run >out.txt
nabla=$(grep -o 'test accuracy [0-9.]*% (loss [0-9.]*)' out.txt)
torch=$("$python" "$source_dir/tools/eval_checkpoint.py" "run/$(cat run/latest)" "$fashion")
echo "nabla:   $nabla"
echo "PyTorch: $torch"
[ "${torch#"$nabla"}" != "$torch" ] || { echo "FAILED: the accuracies differ"; exit 1; }

mkdir other
"$python" - <<'PY'
import gzip, shutil
for stem in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
    shutil.copy(f"/usr/share/datasets/fashion-mnist/{stem}.gz", f"other/{stem}.gz")
with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as f:
    data = bytearray(f.read())
data[-1] ^= 1  # one pixel changed: other data
open("other/train-images-idx3-ubyte", "wb").write(data)
PY
rm other/train-images-idx3-ubyte.gz
if "$python" "$source_dir/tools/eval_checkpoint.py" "run/$(cat run/latest)" other 2>err.txt; then
  echo "FAILED: evaluated on data the checkpoint was not trained on"; exit 1
fi
grep -q "is not the data" err.txt || { cat err.txt; echo "FAILED: unclear refusal"; exit 1; }
echo "ok"
