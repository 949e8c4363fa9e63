#!/usr/bin/env bash
# Peak memory of scoring at scale: a charis-world benchmark of 1,000 samples replicated into
# manifests of 10,000 and 100,000 samples (each replica its own ids and subjects, the same
# images), scored with a warm cache; prints peak RSS of each and the bytes per sample that
# the larger one adds.
# Usage: scripts/bench-scale.sh BIN WORK_DIR
set -euo pipefail
bin=${1:?usage: bench-scale.sh BIN WORK_DIR}
work=${2:?usage: bench-scale.sh BIN WORK_DIR}
rm -rf "$work"
mkdir -p "$work"
"$bin" world build --subjects 250 --prompts-per-subject 4 --seed 21 "$work/world" > /dev/null
replicate() { # N_REPLICAS OUT: every row once per replica, with ids and subjects suffixed -rK
  for k in $(seq 1 "$1"); do
    sed -e "s/\"id\":\"\([^\"]*\)\"/\"id\":\"\1-r$k\"/" -e "s/\"subject\":\"\([^\"]*\)\"/\"subject\":\"\1-r$k\"/" "$work/world/manifest.jsonl"
  done > "$2"
}
replicate 10 "$work/world/m10k.jsonl"
replicate 100 "$work/world/m100k.jsonl"
cache=$work/cache.sqlite
score() { # MANIFEST OUT -> peak RSS in KiB
  /usr/bin/time -f '%M' -o "$work/rss" "$bin" score --manifest "$1" --models "$work/world/models.yaml" \
    --out "$2" --cache "$cache" --max-failures 1 > /dev/null
  cat "$work/rss"
}
score "$work/world/manifest.jsonl" "$work/warmup" > /dev/null # fills the cache: the replicas hit it
start=$(date +%s.%N)
rss10=$(score "$work/world/m10k.jsonl" "$work/run10k")
mid=$(date +%s.%N)
rss100=$(score "$work/world/m100k.jsonl" "$work/run100k")
end=$(date +%s.%N)
per=$(( (rss100 - rss10) * 1024 / 90000 ))
printf '10000 samples:  peak RSS %d MiB, %.1f s\n' $((rss10 / 1024)) "$(echo "$mid - $start" | bc)"
printf '100000 samples: peak RSS %d MiB, %.1f s\n' $((rss100 / 1024)) "$(echo "$end - $mid" | bc)"
echo "bytes_per_sample=$per"
