#!/usr/bin/env bash
# make bench-score: scoring speed and peak memory against its peers and its ceilings, side by
# side in one run, on the 30 DreamBench photos of ../shared (60 samples: each photo the
# reference of two; as the generated images, other subjects' photos re-saved by Pillow,
# mirrored or cropped, so that each is a file of its own, as generations are: 90 distinct
# images), with random-weight encoders of the real shapes (tools/encoders/real_shaped.py:
# DINOv2 ViT-S/14 all tokens, CLIP ViT-B/32 image and text towers, ~690 MB of ONNX, built
# once into OUT/models):
#   charisbench   `charisbench score --no-cache` with default flags, cold: the whole process,
#                 model loading included
#   torch b1/b16  the PyTorch + PIL loop (tools/bench/torch_score.py), batch 1 and 16:
#                 DINO, CLIP-I, CLIP-T only; its timed loop excludes building the models
#   ORT raw       ONNX Runtime through onnxruntime_go and nothing of charisbench
#                 (tools/bench/ortraw) on ready inputs: the 90 distinct images through each
#                 image encoder and the 60 prompts through the text encoder, at the setting
#                 that was fastest in a sweep over every way of keeping the cores busy (t
#                 intra-op threads in cores/t streams that share the sessions, for each t
#                 that divides the cores) and batches of 4, 8 and 16 (printed); its timed
#                 loop excludes loading the models and one warm-up batch per model
#   limit         what this work can reach on this machine: the encoders' core-seconds (ORT
#                 raw's, measured in the same round with every core busy: cores / its
#                 samples/s) plus the CPU stage's (decode and the three resizes of each
#                 distinct image: the faster of charisbench's BenchmarkPrepareImages and
#                 Pillow's tools/bench/pil_prepare.py, one thread), spread over the cores as
#                 if nothing were lost to waiting. (One thread's rate on every core would
#                 count 2-7% of speed that the cores, sharing caches and memory, never give.)
# Each case runs ROUNDS times (default 3), the cases alternating within a round; the table
# gives medians, then the ratios of the medians and the medians of each round's ratios (paired:
# the machine's speed drifts between rounds) on the last lines.
# Usage: scripts/bench-score.sh BIN OUT_DIR [ROUNDS]
set -euo pipefail
bin=${1:?usage: bench-score.sh BIN OUT_DIR [ROUNDS]}
out=${2:?usage: bench-score.sh BIN OUT_DIR [ROUNDS]}
rounds=${3:-3}
py=/usr/bin/python3
cd "$(dirname "$0")/.."
source scripts/openblas-core.sh
mkdir -p "$out"
out=$(cd "$out" && pwd)
models=$out/models
if [ ! -f "$models/models.yaml" ]; then
  echo "bench-score: writing the real-shaped random-weight encoders to $models" >&2
  $py tools/encoders/real_shaped.py --out "$models" 2>/dev/null
fi

photos=(../shared/data/dreambench/*/*.jpg)
[ ${#photos[@]} = 30 ] || { echo "bench-score: want the 30 DreamBench photos in ../shared/data/dreambench, found ${#photos[@]}" >&2; exit 2; }
$py - "$out" "${photos[@]}" <<'PYEOF'
import json, os, sys
from PIL import Image, ImageOps
out, photos = sys.argv[1], [os.path.abspath(p) for p in sys.argv[2:]]
os.makedirs(os.path.join(out, "generated"), exist_ok=True)
with open(os.path.join(out, "manifest.jsonl"), "w") as f, open(os.path.join(out, "prompts.txt"), "w") as p:
    for i, ref in enumerate(photos):
        name = os.path.basename(os.path.dirname(ref)).replace("_", " ")
        for k in range(2):
            prompt = ["a %s in the jungle", "a %s on top of a wooden floor"][k] % name
            gen = os.path.join(out, "generated", f"{i:02d}_{k}.jpg")
            if not os.path.exists(gen):
                with Image.open(photos[(i + k + 1) % len(photos)]) as im:
                    im = ImageOps.exif_transpose(im).convert("RGB")
                    w, h = im.size
                    im = ImageOps.mirror(im) if k == 0 else im.crop((w // 20, h // 20, w - w // 20, h - h // 20))
                    im.save(gen, quality=92)
            f.write(json.dumps({"id": f"{i:02d}_{k}", "subject": str(i), "variant": "v", "reference": ref,
                                "generated": gen, "prompt": prompt}) + "\n")
            p.write(prompt + "\n")
PYEOF
"$bin" tokenize < "$out/prompts.txt" > "$out/ids.jsonl"
go build -o "$out/ortraw" ./tools/bench/ortraw
go test -c -o "$out/score.test" ./metrics/score/
n=$(wc -l < "$out/manifest.jsonl")
images=$(( $(sort -u <(sed 's/.*"reference": "\([^"]*\)".*/\1/' "$out/manifest.jsonl") <(sed 's/.*"generated": "\([^"]*\)".*/\1/' "$out/manifest.jsonl") | wc -l) ))
texts=$(sort -u "$out/prompts.txt" | wc -l)
cores=$(nproc)
lib=$(pwd)/.deps/onnxruntime/libonnxruntime.so.1
raw() { # threads streams batch: ORT raw's command line
  echo "$out/ortraw" --lib "$lib" --image "$models/identity.onnx:last_hidden_state" --image "$models/clip_image.onnx:image_embeds" \
    --text "$models/clip_text.onnx:text_embeds" --ids "$out/ids.jsonl" --images "$images" --texts "$texts" --samples "$n" \
    --threads "$1" --streams "$2" --batch "$3"
}

# The sweep, once: ORT raw at t intra-op threads in cores/t streams (every core busy), for
# each t that divides the cores, and batches of 4, 8 and 16; the fastest is the ceiling's
# setting.
best= best_rate=0
for t in $(seq 1 "$cores"); do
  [ $((cores % t)) = 0 ] || continue
  for b in 4 8 16; do
    r=$($(raw "$t" $((cores / t)) "$b") | sed -n 's/.*samples_per_s=//p')
    echo "sweep: ORT raw, $t intra-op threads x $((cores / t)) streams, batch $b: $r samples/s" >&2
    if awk -v a="$r" -v b="$best_rate" 'BEGIN { exit !(a > b) }'; then best="$t $((cores / t)) $b" best_rate=$r; fi
  done
done

declare -A rate rss
measure() { # case command...: appends "samples/s peakKB" for the case
  local name=$1; shift
  local log=$out/$name.log
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" >"$log" 2>&1 || { echo "bench-score: $name failed:" >&2; tail -n 20 "$log" >&2; exit 1; }
  read -r secs kb < "$out/time.txt"
  local r
  case $name in
    charisbench) r=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.3f", n / s }') ;;
    torch*) r=$(sed -n 's/^samples_per_s=//p' "$log") ;;
    ort-raw) r=$(sed -n 's/.*samples_per_s=//p' "$log") ;;
  esac
  rate[$name]+="$r "
  rss[$name]+="$kb "
  echo "round $round: $name $r samples/s, peak RSS $((kb / 1024)) MiB" >&2
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

export CHARISBENCH_BENCH_MODELS=$models/models.yaml CHARISBENCH_BENCH_MANIFEST=$out/manifest.jsonl
for round in $(seq 1 "$rounds"); do
  rm -rf "$out/run"
  measure charisbench "$bin" score --manifest "$out/manifest.jsonl" --models "$models/models.yaml" --out "$out/run" --no-cache
  measure torch-b1 $py tools/bench/torch_score.py --manifest "$out/manifest.jsonl" --ids "$out/ids.jsonl" --batch 1
  measure torch-b16 $py tools/bench/torch_score.py --manifest "$out/manifest.jsonl" --ids "$out/ids.jsonl" --batch 16
  measure ort-raw $(raw $best)
  # The CPU stage per image, one thread each: ours and Pillow's; the limit takes the faster.
  ours=$("$out/score.test" -test.run '^$' -test.bench PrepareImages -test.benchtime 1x | awk '{ for (i = 1; i <= NF; i++) if ($(i+1) == "ms/image") print $i }')
  pil=$($py tools/bench/pil_prepare.py --manifest "$out/manifest.jsonl" --rounds 1 | sed -n 's/ms_per_image=\([^ ]*\).*/\1/p')
  r_raw=${rate[ort-raw]% }; r_raw=${r_raw##* } # this round's ORT raw
  lim=$(awk -v c="$cores" -v r="$r_raw" -v a="$ours" -v b="$pil" -v per="$images" -v n="$n" \
    'BEGIN { p = (a < b ? a : b) / 1000 * per / n; printf "%.3f", c / (c / r + p) }')
  rate[limit]+="$lim "
  echo "round $round: CPU stage $ours ms/image (charisbench), $pil ms/image (Pillow); limit $lim samples/s" >&2
done

model_mb=$(du -cm "$models"/*.onnx | awk 'END { print $1 }')
echo
read -r bt bs bb <<< "$best"
echo "ORT raw: the sweep's fastest was $bt intra-op threads x $bs streams, batch $bb ($best_rate samples/s)"
echo "$images distinct images, $texts prompts"
echo
echo "| case ($n samples, median of $rounds) | samples/s | peak RSS (MiB) |"
echo "| --- | ---: | ---: |"
for c in charisbench torch-b1 torch-b16 ort-raw; do
  printf "| %s | %s | %d |\n" "$c" "$(echo "${rate[$c]}" | median)" "$(( $(echo "${rss[$c]}" | median | cut -d. -f1) / 1024 ))"
done
printf "| limit | %s | |\n" "$(echo "${rate[limit]}" | median)"
cb=$(echo "${rate[charisbench]}" | median)
cb_rss=$(( $(echo "${rss[charisbench]}" | median | cut -d. -f1) / 1024 ))
raw_rss=$(( $(echo "${rss[ort-raw]}" | median | cut -d. -f1) / 1024 ))
echo "model bytes: $model_mb MiB"
for c in torch-b1 torch-b16 ort-raw limit; do
  awk -v a="$cb" -v b="$(echo "${rate[$c]}" | median)" -v c="$c" 'BEGIN { printf "vs_%s=%.2f\n", c, a / b }'
done
awk -v a="$cb_rss" -v b="$raw_rss" 'BEGIN { printf "rss_vs_ort-raw=%.2f\n", a / b }'
awk -v a="$cb_rss" -v b="$model_mb" 'BEGIN { printf "rss_over_models=%.2f\n", a / b }'
# The machine's speed drifts between rounds; within a round the cases run back to back, so
# each round's ratio is a paired comparison: their median, beside the ratio of medians.
for c in torch-b1 torch-b16 ort-raw limit; do
  r=$(paste -d' ' <(printf '%s\n' ${rate[charisbench]}) <(printf '%s\n' ${rate[$c]}) | awk '{ printf "%.3f ", $1 / $2 }')
  printf "paired_vs_%s=%.2f (per round: %s)\n" "$c" "$(echo "$r" | median)" "${r% }"
done
r=$(paste -d' ' <(printf '%s\n' ${rss[charisbench]}) <(printf '%s\n' ${rss[ort-raw]}) | awk '{ printf "%.3f ", $1 / $2 }')
printf "paired_rss_vs_ort-raw=%.2f (per round: %s)\n" "$(echo "$r" | median)" "${r% }"
