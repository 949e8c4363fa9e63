#!/usr/bin/env bash
# DreamBench's real photos through the path a researcher walks: a generated folder →
# `charisbench manifest dreambench` → `score` → `report`. One command from a fresh clone:
#
#   examples/dreambench/run.sh [OUT]        (default out/dreambench)
#
# The "generated" folder is made from the dataset's own photos (makegen: prompt 00 the
# subject's photo, 01 mirrored, 02 another subject's photo), and scoring uses charis-world's
# encoders, the only ones that ship with charisbench. Their numbers mean nothing for real
# photos: they were trained on synthetic characters. Export real CLIP and DINOv2 with
# tools/encoders/export_hf.py and pass its models.yaml as MODELS=... to get real ones.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-out/dreambench}
data=../shared/data/dreambench
make -s build ort
bin=bin/charisbench
rm -rf "$out" && mkdir -p "$out"
go run ./examples/dreambench/makegen "$data" "$out/generated/photos-as-generated"
models=${MODELS:-}
if [ -z "$models" ]; then
  "$bin" world build --subjects 1 --prompts-per-subject 1 "$out/world-encoders" > /dev/null
  models=$out/world-encoders/models.yaml
fi
# Three of each subject's 25 prompts have images: --skip-missing scores those.
"$bin" manifest dreambench "$data" "$out/generated/photos-as-generated" --samples 1 --skip-missing -o "$out/manifest.jsonl"
"$bin" score --manifest "$out/manifest.jsonl" --models "$models" --out "$out/run" --cache "$out/cache.sqlite"
"$bin" report "$out/run" --out "$out/report" > /dev/null
echo "report: $out/report/report.html"
