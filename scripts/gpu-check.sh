#!/usr/bin/env bash
# The GPU check: what a machine with one NVIDIA GPU and a JAX CUDA install runs, in under
# 8 minutes, to measure charisbench there. Usage: scripts/gpu-check.sh BIN OUT_DIR
#   plugin    find the PJRT CUDA plugin a JAX install ships and set GoMLX up to load it
#   encoders  images/s of the real-shaped encoders (tools/encoders/real_shaped.py: DINOv2-S/14
#             all tokens, CLIP-B/32 image) at batch 64: charisbench models bench --runtime
#             gomlx --device cuda, against PyTorch on the GPU and ONNX Runtime on the CPU
#             (tools/bench/encoders_peer.py) -> OUT/encoders.jsonl
#   parity    a mask-free charis-world build scored with --runtime gomlx --device cuda and
#             with ONNX Runtime on the CPU, sample by sample -> OUT/parity.txt
#   grid      examples/ablations-gpu.yaml: flowdit's Small base pretrained here, then its six
#             LoRA variants trained, sampled and scored on the GPU as six shards of one run at
#             once, merged into one report -> OUT/grid.md, OUT/contact_sheet.png
# PARTS (default "encoders parity grid") picks parts. CHECK_DEVICE=cpu runs every part on the
# CPU at toy sizes, no plugin needed: how make test-gpu-check tests this script here.
# BIN is a charisbench binary; ONNX Runtime comes from $CHARISBENCH_ORT_LIB as usual; PYTHON
# (default python3) needs torch, and onnxruntime for the CPU peer.
set -uo pipefail
bin=$(realpath "${1:?usage: gpu-check.sh BIN OUT_DIR}")
out=$(realpath -m "${2:?usage: gpu-check.sh BIN OUT_DIR}")
root=$(cd "$(dirname "$0")/.." && pwd)
dev=${CHECK_DEVICE:-cuda}
parts=" ${PARTS:-encoders parity grid} "
py=${PYTHON:-python3}
mkdir -p "$out"
log() { echo "[$(date +%T)] $*"; }
took() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
failed=0
fail() { log "FAILED: $*"; failed=1; }

if [ "$dev" = cuda ]; then
  # Sizes of the real check. Base: ~45 steps/s on an H200 at batch 8 (docs/flowdit.md).
  bench_batch=64 bench_s=5 roles=identity,clip_image peers=torch-cuda,onnxruntime-cpu
  base_size=small base_steps=2000 base_batch=32
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  plugin=$(find / \( -name 'pjrt_c_api_cuda_plugin.so' -o -name 'xla_cuda_plugin.so' \) -not -path '/proc/*' 2>/dev/null | head -n 1)
  [ -n "$plugin" ] || { echo "no PJRT CUDA plugin on this machine"; exit 1; }
  log "plugin: $plugin"
  # GoMLX looks for pjrt_c_api_<name>_plugin.so in $PJRT_PLUGIN_LIBRARY_PATH.
  pj=$out/pjrt
  mkdir -p "$pj/lib"
  ln -sf "$plugin" "$pj/lib/pjrt_c_api_cuda_plugin.so"
  export PJRT_PLUGIN_LIBRARY_PATH=$pj/lib
  # The CUDA libraries of a pip install sit in site-packages/nvidia/*/lib; XLA also needs
  # the folder holding nvvm/libdevice (and bin/ptxas).
  site=$(dirname "$(dirname "$(dirname "$plugin")")")
  if [ -d "$site/nvidia" ]; then
    libs=$(find "$site/nvidia" -maxdepth 3 -type d -name lib | tr '\n' ':')
    export LD_LIBRARY_PATH=${libs}${LD_LIBRARY_PATH:-}
    libdevice=$(find "$site/nvidia" -name 'libdevice*.bc' | head -n 1)
    [ -n "$libdevice" ] && export XLA_FLAGS="--xla_gpu_cuda_data_dir=$(dirname "$(dirname "$(dirname "$libdevice")")")"
  fi
  log "XLA_FLAGS=${XLA_FLAGS:-}"
else
  bench_batch=2 bench_s=0.2 roles=identity peers=torch-cpu
  base_size=tiny base_steps=3 base_batch=2
fi
log "cpus: $(nproc), device: $dev, parts:$parts"

if [[ $parts == *" encoders "* ]]; then
  t0=$(date +%s.%N)
  enc=$out/real-shaped
  if $py "$root/tools/encoders/real_shaped.py" --out "$enc" --roles "$roles" >"$out/export.log" 2>&1; then
    log "real-shaped encoders exported in $(took "$t0") s"
    "$bin" models bench "$enc/models.yaml" --runtime gomlx --device "$dev" --batch "$bench_batch" --seconds "$bench_s" --json \
      >"$out/gomlx.json" 2>"$out/gomlx.log" || fail "models bench (gomlx, $dev): $(tail -n 5 "$out/gomlx.log")"
    $py -c 'import json,sys; [print(json.dumps(dict(engine="charisbench-gomlx-'"$dev"'", **r))) for r in json.load(open(sys.argv[1]))]' \
      "$out/gomlx.json" >"$out/encoders.jsonl" || true
    $py "$root/tools/bench/encoders_peer.py" --models "$enc" --batch "$bench_batch" --seconds "$bench_s" --engines "$peers" \
      --roles "$roles" >>"$out/encoders.jsonl" 2>"$out/peer.log" || fail "encoders_peer: $(tail -n 5 "$out/peer.log")"
    $py - "$out/encoders.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("%-28s %-11s %6s %12s %10s" % ("engine", "role", "batch", "first batch", "images/s"))
for r in rows:
    print("%-28s %-11s %6d %11.2fs %10.1f %s" % (r["engine"], r["role"], r["batch"], r.get("first_batch_s", 0),
                                                r.get("per_second", 0), r.get("error", "")))
ours = {r["role"]: r["per_second"] for r in rows if r["engine"].startswith("charisbench")}
for peer in sorted({r["engine"] for r in rows if not r["engine"].startswith("charisbench")}):
    for r in rows:
        if r["engine"] == peer and ours.get(r["role"]):
            print(f"gomlx / {peer} on {r['role']}: {ours[r['role']] / r['per_second']:.2f}")
PY
  else
    fail "real_shaped.py: $(tail -n 5 "$out/export.log")"
  fi
  log "encoders: $(took "$t0") s"
fi

world_args=(--subjects 6 --prompts-per-subject 2 --seed 11 --perturb recolour@1 --perturb blur@1)
[ "$dev" = cpu ] && world_args=(--subjects 1 --prompts-per-subject 1 --seed 11 --perturb blur@1)
if [[ $parts == *" parity "* ]]; then
  t0=$(date +%s.%N)
  w=$out/parity-world
  "$bin" world build "${world_args[@]}" "$w" >/dev/null
  # Generated images come without masks: drop them, so the segmenter runs too.
  $py -c 'import json,sys; [print(json.dumps({k: v for k, v in json.loads(l).items() if not k.endswith("_mask")})) for l in open(sys.argv[1])]' \
    "$w/manifest.jsonl" >"$w/mask-free.jsonl"
  for rt in "gomlx --device $dev" "onnxruntime --device cpu"; do
    name=${rt%% *}
    "$bin" score --runtime $rt --manifest "$w/mask-free.jsonl" --models "$w/models.yaml" --out "$out/parity-$name" --no-cache \
      >"$out/parity-$name.log" 2>&1 || fail "score --runtime $rt: $(tail -n 5 "$out/parity-$name.log")"
  done
  $py - "$out/parity-gomlx/samples.jsonl" "$out/parity-onnxruntime/samples.jsonl" <<'PY' | tee "$out/parity.txt"
import json, sys
a, b = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
worst = {}
for x, y in zip(a, b):
    assert x["id"] == y["id"], (x["id"], y["id"])
    d = {"charis": abs(x["charis"] - y["charis"])}
    for k, v in x["axes"].items():
        if "score" in v and "score" in y["axes"].get(k, {}):
            d[k] = abs(v["score"] - y["axes"][k]["score"])
    for k, v in d.items():
        worst[k] = max(worst.get(k, 0), v)
print(f"{len(a)} samples, gomlx vs onnxruntime (cpu), worst |difference|: " +
      ", ".join(f"{k} {v:.2e}" for k, v in sorted(worst.items())))
ok = max(worst.values()) <= 1e-3
print("PASS" if ok else "FAIL: over 1e-3")
sys.exit(0 if ok else 1)
PY
  [ $? = 0 ] || fail "parity"
  log "parity: $(took "$t0") s"
fi

if [[ $parts == *" grid "* ]]; then
  t0=$(date +%s.%N)
  g=$out/grid
  mkdir -p "$g"
  # The grid file, with its base checkpoint and run folder under OUT (and, on the CPU, toy sizes).
  sed -e "s#^out: .*#out: $g/merged#" -e "s#base: .*#base: $g/base#" "$root/examples/ablations-gpu.yaml" >"$g/ablations.yaml"
  if [ "$dev" = cpu ]; then
    sed -i -e 's/subjects: [0-9]*/subjects: 2/' -e 's/prompts_per_subject: [0-9]*/prompts_per_subject: 1/' \
      -e 's/steps: [0-9]*/steps: 3/' -e 's/sample_steps: [0-9]*/sample_steps: 2/' -e 's/batch: [0-9]*/batch: 2/' "$g/ablations.yaml"
  fi
  "$bin" gen train --stage base --size "$base_size" --steps "$base_steps" --batch "$base_batch" --cosine --device "$dev" \
    --out "$g/base" >"$g/base.log" 2>&1 || fail "base: $(tail -n 5 "$g/base.log")"
  log "base ($base_size, $base_steps steps of $base_batch): $(took "$t0") s; $(grep -E '^step ' "$g/base.log" | tail -n 1)"
  n=$(awk '/^variants:/ { v = 1 } v && /^  - name:/ { n++ } END { print n }' "$g/ablations.yaml")
  pids=()
  for i in $(seq 0 $((n - 1))); do
    "$bin" run "$g/ablations.yaml" --shard "$i/$n" --out "$g/shard$i" --gen-device "$dev" --runtime gomlx --device "$dev" \
      >"$g/shard$i.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "shard $i: $(tail -n 5 "$g/shard$i.log")"
  done
  log "variants ($n shards at once): $(took "$t0") s"
  "$bin" merge "$g/ablations.yaml" "$g"/shard* >"$g/merge.log" 2>&1 || fail "merge: $(tail -n 5 "$g/merge.log")"
  r=$g/merged/report
  cat "$r/evidence.md" "$r/paper_masking.md" "$r/paper_lora.md" "$r/table.md" >"$out/grid.md" 2>/dev/null
  cp "$r/contact_sheet.png" "$out/" 2>/dev/null
  cat "$out/grid.md"
  log "grid: $(took "$t0") s"
fi
exit $failed
