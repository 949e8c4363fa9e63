#!/usr/bin/env bash
# The end-to-end path that exists today, on charis-world: build a small benchmark with
# ground truth and perturbed variants, verify its encoders, measure them on held-out
# characters, and embed a reference, its transformed targets and another character.
# Usage: scripts/demo.sh BIN OUT_DIR
set -euo pipefail
bin=${1:?usage: demo.sh BIN OUT_DIR}
out=${2:?usage: demo.sh BIN OUT_DIR}
w=$out/world
rm -rf "$w" "$out/run" "$out/run-truth" "$out/run-blurred" "$out/report" "$out/validation"
mkdir -p "$out"

echo "== 1. build a charis-world benchmark (12 characters x 4 prompts, perturbed variants)"
"$bin" world build --subjects 12 --prompts-per-subject 4 --seed 1 \
  --perturb copy_paste@1,identity_swap@0.5,recolour@1,blur@1,prompt_mismatch@1 "$w"
head -c 300 "$w/manifest.jsonl"; echo " ..."

echo; echo "== 2. verify the world's encoders"
"$bin" models verify "$w/models.yaml"

echo; echo "== 3. do they mean something? retrieval on held-out characters"
"$bin" world check-encoders --subjects 50 --queries 2 --prompts 100

echo; echo "== 4. score every variant with CHARIS (ground truth = a perfect generator)"
"$bin" score --manifest "$w/manifest.jsonl" --models "$w/models.yaml" --out "$out/run" --cache "$out/cache.sqlite"

echo; echo "== 5. reports: tables, plots and an HTML page; the CI gate (blurred generations against the truth)"
"$bin" report "$out/run" --out "$out/report" | tail -n 1
grep -v '@' "$w/manifest.jsonl" > "$out/truth.jsonl"
sed 's#"generated":"targets/\([^"]*\)"#"generated":"perturbed/blur@1/\1"#' "$out/truth.jsonl" > "$w/blurred.jsonl"
cp "$out/truth.jsonl" "$w/truth.jsonl"
"$bin" score --manifest "$w/truth.jsonl" --models "$w/models.yaml" --out "$out/run-truth" --cache "$out/cache.sqlite" > /dev/null
"$bin" score --manifest "$w/blurred.jsonl" --models "$w/models.yaml" --out "$out/run-blurred" --cache "$out/cache.sqlite" > /dev/null
"$bin" gate --baseline "$out/run-truth" --candidate "$out/run-blurred" && echo "gate: pass" || echo "gate exit $? (1 = regression, as it should be)"

echo; echo "== 6. does CHARIS v2 rank the ground truth above its failure modes? (validation, charis-v2.md)"
"$bin" world build --subjects 20 --prompts-per-subject 4 --seed 11 --all-perturbations 0.25,0.5,0.75,1 "$out/validation/world" > /dev/null
"$bin" validate --manifest "$out/validation/world/manifest.jsonl" --models "$out/validation/world/models.yaml" \
  --out "$out/validation" --cache "$out/cache.sqlite" || echo "validation exit $? (1 = a target of charis-v2.md failed)"

echo; echo "== 7. identity embeddings: reference s0000, two of its targets, another character"
"$bin" embed --models "$w/models.yaml" --role identity "$w/references/s0000.png" \
  "$w/targets/s0000_p00.png" "$w/targets/s0000_p01.png" "$w/references/s0001.png" > "$out/embed_identity.json"
sed -n '/"cosine"/,$p' "$out/embed_identity.json" | tr -d ' \n' | sed 's/"cosine"://; s/}$//'; echo

echo; echo "== 8. the pixels the identity encoder sees, and CLIP input ids of a prompt"
"$bin" preprocess --manifest "$w/models.yaml" --role identity "$w/targets/s0000_p00.png" -o "$out/identity_input.png"
head -n 1 "$w/manifest.jsonl" | sed 's/.*"prompt":"\([^"]*\)".*/\1/' | tee "$out/prompt.txt" | "$bin" tokenize | tee "$out/tokens.jsonl"

echo; echo "== 9. the paper's ablations on charis-world: flowdit fine-tuned from the committed base,"
echo "      masked vs full CFM loss and three LoRA layer sets, generated, scored and reported"
"$bin" run examples/charis-world/ablations.yaml --resume

echo
echo "Outputs are in $out/: ablations/report/ (the paper's tables paper_*.md/.tex, evidence.md,"
echo "contact_sheet.png, table.md, plots, report.html), world/ (a benchmark with ground truth), run/ and report/ (its scored run and"
echo "report), validation/ (validation.md, purity.png, separation.png), embed_identity.json,"
echo "identity_input.png, tokens.jsonl"
