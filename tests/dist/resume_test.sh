#!/usr/bin/env bash
# A run checkpointed after 2 epochs with one rank count and resumed to 4 epochs with the other
# ends within the equivalence tolerance of an uninterrupted single-process run of 4 epochs.
#   resume_test.sh 2-to-1|1-to-2 DIST_CHILD WORKDIR MPIRUN...
set -euo pipefail
direction=$1 child=$2 work=$3
shift 3
mpirun=("$@")
rm -rf "$work" && mkdir -p "$work"
"$child" train 0 4 - 0 "$work/reference.bin"
if [ "$direction" = 2-to-1 ]; then
  "${mpirun[@]}" "$child" train 1 2 "$work/ckpt" 0 -
  "$child" train 0 4 "$work/ckpt" 1 "$work/resumed.bin"
else
  "$child" train 0 2 "$work/ckpt" 0 -
  "${mpirun[@]}" "$child" train 1 4 "$work/ckpt" 1 "$work/resumed.bin"
fi
"$child" compare "$work/reference.bin" "$work/resumed.bin"
