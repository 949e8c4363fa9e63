#!/usr/bin/env bash
# Times flowdit on GoMLX's XLA backend with a PJRT CUDA plugin (as a JAX CUDA install ships
# it) against the pure-Go CPU backend on the same machine: the train step (Tiny and Small)
# and the sampler. Prints what failed, verbatim, when the plugin does not load.
# Usage: scripts/gpu-flowdit.sh BIN OUT_DIR   (BIN: a charisbench binary)
set -uo pipefail
bin=${1:?usage: gpu-flowdit.sh BIN OUT_DIR}
out=${2:?usage: gpu-flowdit.sh BIN OUT_DIR}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
echo "cpus: $(nproc)"

plugin=$(find / \( -name 'pjrt_c_api_cuda_plugin.so' -o -name 'xla_cuda_plugin.so' \) -not -path '/proc/*' 2>/dev/null | head -n 1)
[ -n "$plugin" ] || { echo "no PJRT CUDA plugin on this machine"; exit 1; }
echo "plugin: $plugin"
# GoMLX looks for pjrt_c_api_<name>_plugin.so in $PJRT_PLUGIN_LIBRARY_PATH.
pj=$out/pjrt
mkdir -p "$pj/lib"
ln -sf "$plugin" "$pj/lib/pjrt_c_api_cuda_plugin.so"
export PJRT_PLUGIN_LIBRARY_PATH=$pj/lib
# The CUDA libraries of a pip install sit in site-packages/nvidia/*/lib; XLA also needs
# the folder holding nvvm/libdevice (and bin/ptxas).
site=$(dirname "$(dirname "$(dirname "$plugin")")")
if [ -d "$site/nvidia" ]; then
  ln -sfn "$site/nvidia" "$pj/nvidia"
  libs=$(find "$site/nvidia" -maxdepth 3 -type d -name lib | tr '\n' ':')
  export LD_LIBRARY_PATH=${libs}${LD_LIBRARY_PATH:-}
  libdevice=$(find "$site/nvidia" -name 'libdevice*.bc' | head -n 1)
  [ -n "$libdevice" ] && export XLA_FLAGS="--xla_gpu_cuda_data_dir=$(dirname "$(dirname "$(dirname "$libdevice")")")"
fi
echo "XLA_FLAGS=${XLA_FLAGS:-}"

rate() { # steps/s between the first progress line (compilation done) and the last
  awk '/^step / { split($2, s, "/"); t = $5; sub(/s$/, "", t); if (t ~ /m/) { split(t, mm, "m"); t = mm[1] * 60 + mm[2] } t = t + 0
    if (!first) { first = 1; s0 = s[1]; t0 = t } s1 = s[1]; t1 = t }
    END { if (t1 > t0) printf "%.1f steps/s (steps %d-%d)\n", (s1 - s0) / (t1 - t0), s0, s1; else print "n/a" }' "$1"
}
train() { # device size steps
  local log=$out/train-$1-$2.log
  local t0=$(date +%s.%N)
  timeout 240 "$bin" gen train --device "$1" --size "$2" --steps "$3" --batch 8 --out "$out/ckpt-$1-$2" >"$log" 2>&1
  local rc=$?
  echo "train $1 $2 ($3 steps, batch 8): exit $rc, $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s wall, $(rate "$log")"
  [ $rc = 0 ] || tail -n 15 "$log"
}

"$bin" world build --subjects 8 --prompts-per-subject 2 --seed 7 --size 64 "$out/world" >/dev/null
train cuda tiny 400
train cpu tiny 100
train cuda small 200
train cpu small 10
for dev in cuda cpu; do
  if [ -d "$out/ckpt-$dev-tiny" ]; then
    t0=$(date +%s.%N)
    timeout 120 "$bin" gen sample --device "$dev" --ckpt "$out/ckpt-$dev-tiny" --manifest "$out/world/manifest.jsonl" \
      --steps 20 --batch 16 --out "$out/sample-$dev" >"$out/sample-$dev.log" 2>&1
    rc=$?
    echo "sample $dev tiny (16 images, 20 Euler steps): exit $rc, $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s wall"
    [ $rc = 0 ] || tail -n 15 "$out/sample-$dev.log"
  fi
done
