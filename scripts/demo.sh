#!/usr/bin/env bash
# The end-to-end path that exists today: verify the encoders of a model manifest, show the
# exact pixels an encoder sees, embed images and prompts, and compare them.
# Usage: scripts/demo.sh BIN OUT_DIR
set -euo pipefail
bin=${1:?usage: demo.sh BIN OUT_DIR}
out=${2:?usage: demo.sh BIN OUT_DIR}
models=testdata/models/models.yaml
mkdir -p "$out"
imgs=(charis/preprocess/testdata/smooth_640x480.png charis/preprocess/testdata/smooth_301x1023.png
      charis/imageio/testdata/orient6.jpg)

echo "== 1. verify the encoders of $models"
"$bin" models verify "$models"

echo; echo "== 2. the pixels the identity encoder sees (resize 256 bicubic, crop 224)"
"$bin" preprocess --manifest "$models" --role identity "${imgs[0]}" -o "$out/identity_input.png"

echo; echo "== 3. identity embeddings (CLS) and their cosines"
"$bin" embed --models "$models" --role identity "${imgs[@]}" > "$out/embed_identity.json"
echo; echo "== 4. CLIP text embeddings of two prompts"
"$bin" embed --models "$models" --role clip_text "the character, turned left" "the character, on a green background" > "$out/embed_text.json"
echo; echo "== 5. CLIP input ids"
echo "the character, turned left, on a green background, in dim light" | "$bin" tokenize | tee "$out/tokens.jsonl"

cosines() { # the "cosine" matrix of an embed output, on one line
  sed -n '/"cosine"/,$p' "$1" | tr -d ' \n' | sed 's/"cosine"://; s/}$//'
}
echo; echo "identity cosines: $(cosines "$out/embed_identity.json")"
echo "text cosines:     $(cosines "$out/embed_text.json")"
echo
echo "Outputs are in $out/: identity_input.png, embed_identity.json, embed_text.json, tokens.jsonl"
echo "(The tiny encoders have random weights: they test the machinery, the numbers mean nothing.)"
