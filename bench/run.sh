#!/usr/bin/env bash
# Runs the three reference workloads (bench/workloads_bench.cpp) for nabla and, where installed,
# for PyTorch eager (Debian's python3-torch) and the libtorch C++ frontend (libtorch-dev), plus
# the machine limits, side by side in one run, and prints one table with nabla's ratios.
#
#   bench/run.sh                # EPOCHS=5 THREADS=2 BUILD_DIR=build-bench by default
#   EPOCHS=3 bench/run.sh
#   PEER_ENV="OMP_WAIT_POLICY=passive" bench/run.sh   # extra environment for the peers only
#
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the environment of the benchmark
# processes only: they force older OpenBLAS kernels.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
epochs=${EPOCHS:-5}
threads=${THREADS:-2}
python=/usr/bin/python3
results=$build/bench-results.jsonl
peer_env=${PEER_ENV:-}
run_clean() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }
# shellcheck disable=SC2086  # PEER_ENV is a list of NAME=value words
run_peer() { run_clean $peer_env "$@"; }

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNABLA_CUDA=OFF \
  -DNABLA_BUILD_TESTS=OFF -DNABLA_BUILD_EXAMPLES=OFF -DNABLA_BUILD_BENCH=ON >/dev/null
ninja -C "$build" -j"$threads" workloads_bench >/dev/null

have_libtorch=0
torch_api=/usr/include/torch/csrc/api/include
if [[ -f $torch_api/torch/torch.h ]]; then
  exe=$build/libtorch_workloads src=$root/bench/peers/libtorch_workloads.cpp
  if [[ ! -x $exe || $src -nt $exe ]]; then
    echo "building the libtorch peer (about a minute)..." >&2
    if ! c++ -O2 -std=c++17 -w -I"$torch_api" "$src" -o "$exe" -ltorch -ltorch_cpu -lc10 -lz; then
      echo "libtorch peer did not build; skipped" >&2
      rm -f "$exe"
    fi
  fi
  [[ -x $exe ]] && have_libtorch=1
else
  echo "libtorch-dev not installed: libtorch column skipped" >&2
fi
have_pytorch=0
if [[ -x $python ]] && $python -c "import torch, numpy" 2>/dev/null; then have_pytorch=1; else
  echo "PyTorch for $python not installed: PyTorch column skipped" >&2
fi

: >"$results"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); peers' extra environment: ${peer_env:-none}" >&2
run_clean "$build/bench/workloads_bench" limits --threads "$threads" | tee -a "$results" >&2
for w in w1 w2 w3; do
  run_clean "$build/bench/workloads_bench" "$w" --epochs "$epochs" --threads "$threads" |
    tee -a "$results" >&2
  if ((have_libtorch)); then
    run_peer "$build/libtorch_workloads" "$w" --epochs "$epochs" --threads "$threads" |
      tee -a "$results" >&2
  fi
  if ((have_pytorch)); then
    run_peer $python "$root/bench/peers/torch_workloads.py" "$w" --epochs "$epochs" \
      --threads "$threads" | tee -a "$results" >&2
  fi
done

# The table (any python3 will do; the standard library only).
python3 - "$results" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
limits = next(r for r in rows if r["workload"] == "limits")
runs = {(r["framework"], r["workload"]): r for r in rows if r["workload"] != "limits"}
print(f"machine: STREAM triad {limits['triad_gbps']:.1f} GB/s; sgemm at W1's first layer "
      f"{limits['sgemm_w1_first_gflops']:.0f} GFLOP/s; GEMM floor per epoch W1 "
      f"{limits['w1_gemm_floor_s']:.3f} s, W2 {limits['w2_gemm_floor_s']:.3f} s; Adam step (16M) "
      f"{limits['adam16m_gbps']:.1f} GB/s = {limits['adam_over_triad']:.2f} of triad")
print()
print(f"{'workload':8} {'framework':9} {'s/epoch':>8} {'examples/s':>10} {'accuracy':>8} "
      f"{'peak MB':>8} {'nabla/this':>10}")
for w in ("w1", "w2", "w3"):
    nabla = runs.get(("nabla", w))
    for fw in ("nabla", "libtorch", "pytorch"):
        r = runs.get((fw, w))
        if not r:
            continue
        ratio = f"{nabla['median_s'] / r['median_s']:.2f}" if nabla and fw != "nabla" else ""
        print(f"{w:8} {fw:9} {r['median_s']:8.3f} {r['examples_per_s']:10.0f} "
              f"{100 * r['accuracy']:7.2f}% {r['peak_rss_mb']:8.0f} {ratio:>10}")
    if w in ("w1", "w2") and nabla:
        floor = limits[f"{w}_gemm_floor_s"]
        print(f"{w:8} {'GEMM floor':9} {floor:8.3f} {'':10} {'':8} {'':8} "
              f"{nabla['median_s'] / floor:10.2f}")
EOF
