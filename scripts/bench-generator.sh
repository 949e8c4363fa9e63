#!/usr/bin/env bash
# Times flowdit's train step (Tiny config, batch 8, Adam) on GoMLX's pure-Go backend and
# the same model in PyTorch (tools/flowdit/torch_step.py), both on one CPU thread, in one
# run; and a 256x256x256 float32 matmul in each, the floor a step made of matmuls meets.
# The last line is "ratio=X" (ours / PyTorch, train step).
set -euo pipefail
cd "$(dirname "$0")/.."
py=/usr/bin/python3
$py -c 'import torch' 2>/dev/null || { echo "bench-generator: needs Debian's python3-torch (make dev-deps)" >&2; exit 2; }

source scripts/openblas-core.sh

go_out=$(GOMAXPROCS=1 go test -run '^$' -bench 'TrainStep|MatMul' -benchtime 10x ./generators/flowdit/)
ours_ms=$(awk '/BenchmarkTrainStep/ {for (i = 1; i <= NF; i++) if ($(i+1) == "ms/step") print $i}' <<<"$go_out")
ours_gf=$(awk '/BenchmarkMatMul/ {for (i = 1; i <= NF; i++) if ($(i+1) == "GFLOP/s") print $i}' <<<"$go_out")
# One thread for PyTorch includes its BLAS: a pthreads OpenBLAS would otherwise start its own.
torch_out=$(OPENBLAS_NUM_THREADS=1 $py tools/flowdit/torch_step.py --batch 8 --steps 20)
torch_ms=$(sed -n 's/^torch_step_ms=//p' <<<"$torch_out")
torch_gf=$(sed -n 's/^torch_matmul_gflops=//p' <<<"$torch_out")

echo "train step (Tiny, batch 8, 1 thread): flowdit/GoMLX ${ours_ms} ms, PyTorch ${torch_ms} ms"
echo "matmul 256^3 (1 thread): GoMLX ${ours_gf} GFLOP/s, PyTorch ${torch_gf} GFLOP/s"
awk -v a="$torch_gf" -v b="$ours_gf" 'BEGIN { printf "matmul_ratio=%.2f\n", a / b }'
awk -v a="$ours_ms" -v b="$torch_ms" 'BEGIN { printf "ratio=%.2f\n", a / b }'
