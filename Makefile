# charisbench — two commands set everything up on a machine with Go, gcc and npm:
#   make demo   the main job, end to end
#   make test   every test, with ONNX Runtime installed and required
SHELL := /bin/bash
GO ?= go
ORT_DIR := .deps/onnxruntime
ORT_LIB := $(ORT_DIR)/libonnxruntime.so.1
BIN := bin/charisbench
PY := /usr/bin/python3

.PHONY: all build ort codecs blas torch slurm chromium test test-gpu-check lint demo demo-gpu bench bench-scale bench-generator bench-score fuzz fixtures world-encoders world-eval world-calibrate validate dev-deps clean

all: build

build: $(BIN)

# Sources, and the files compiled in with go:embed (the world's encoders, the CLIP vocabulary).
$(BIN): $(shell find . \( -name '*.go' -o -name '*.s' \) -not -path './.deps/*') $(shell find charis/world/encoders -type f) charis/clip/bpe_simple_vocab_16e6.txt.gz go.mod go.sum | codecs blas
	$(GO) build -o $(BIN) ./cmd/charisbench

# libjpeg-turbo's TurboJPEG headers and libwebp's: JPEG and WebP decode as Pillow does
# (charis/imageio/turbojpeg, charis/imageio/libwebp). Without them, build with
# -tags noturbojpeg,nolibwebp for Go's approximate decoders.
codecs:
	scripts/need-debs.sh "libjpeg-turbo's TurboJPEG headers" "test -e /usr/include/turbojpeg.h" libturbojpeg0-dev
	scripts/need-debs.sh "libwebp's headers" "test -e /usr/include/webp/decode.h" libwebp-dev

# OpenBLAS for GoMLX's pure-Go backend (internal/gomlxblas: flowdit trains ~4x faster).
# Without it, build with -tags noblas for gonum's pure-Go sgemm.
blas:
	scripts/need-debs.sh "OpenBLAS, pthreads build (safe to call from several threads)" "dpkg -s libopenblas-pthread-dev >/dev/null 2>&1 && echo 'int main(void){return 0;}' | gcc -x c - -lopenblas -o /dev/null" libopenblas-pthread-dev

# The ONNX Runtime shared library, from the onnxruntime-node npm package, sha256-checked.
ort: $(ORT_LIB)

$(ORT_LIB): scripts/fetch-ort.sh
	scripts/fetch-ort.sh $(ORT_DIR)

lint: codecs blas
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Debian's PyTorch, for the reference external generator (examples/torch-generator) the tests
# run, with OpenBLAS (without it Debian's torch multiplies matrices with the reference BLAS, ~7x slower).
torch:
	scripts/need-debs.sh "PyTorch for $(PY)" "$(PY) -c 'import torch, numpy, PIL' && dpkg -s libopenblas0-serial" python3-torch python3-numpy python3-pil libopenblas0-serial

# A single-node Slurm for the scale-out test (scripts/slurm-cluster.sh starts it per test).
slurm:
	scripts/need-debs.sh "Slurm and munge" "command -v slurmctld && command -v slurmd && command -v sbatch && command -v munged" slurmctld slurmd slurm-client munge

# Debian's headless Chromium, for the test that opens report.html in a real browser (reports/).
chromium:
	scripts/need-debs.sh "Chromium for the report's browser test" "command -v chromium" chromium

test: ort lint torch slurm chromium test-gpu-check
	CHARISBENCH_REQUIRE_ORT=1 CHARISBENCH_REQUIRE_TORCH=1 CHARISBENCH_REQUIRE_SLURM=1 CHARISBENCH_REQUIRE_CHROMIUM=1 $(GO) test ./...
	$(GO) test -tags noturbojpeg,nolibwebp ./charis/imageio/ ./charis/preprocess/   # the pure-Go JPEG and WebP fallbacks
	$(GO) test -tags noblas ./internal/gomlxblas/                       # the pure-Go sgemm fallback

demo: ort build
	scripts/demo.sh $(BIN) out/demo

# The GPU check (scripts/gpu-check.sh) on this machine's CPU at toy sizes: every part runs
# and leaves its results (make test runs it; the real check needs a CUDA GPU).
GPU_CHECK_CPU := out/gpu-check-cpu
test-gpu-check: ort build torch
	rm -rf $(GPU_CHECK_CPU)
	CHECK_DEVICE=cpu PYTHON=$(PY) scripts/gpu-check.sh $(BIN) $(GPU_CHECK_CPU) > /dev/null
	grep -q '^| ground_truth' $(GPU_CHECK_CPU)/grid.md && test -s $(GPU_CHECK_CPU)/contact_sheet.png
	grep -q '^PASS' $(GPU_CHECK_CPU)/parity.txt && grep -q charisbench-gomlx-cpu $(GPU_CHECK_CPU)/encoders.jsonl

# The GPU grid (examples/ablations-gpu.yaml) on a machine with a CUDA GPU and a JAX CUDA
# install (its PJRT plugin): the Small base, six variants as six shards at once, the report.
demo-gpu: ort build
	PARTS=grid scripts/gpu-check.sh $(BIN) out/gpu

# Throughput benchmarks: decode + preprocess and encoder batches (images/s) on the CPU, and
# scoring (samples/s) with a cold and a warm cache side by side.
bench: ort
	CHARISBENCH_REQUIRE_ORT=1 $(GO) test -run '^$$' -bench . -benchtime 3s ./charis/preprocess/ ./metrics/encoder/
	CHARISBENCH_REQUIRE_ORT=1 $(GO) test -run '^$$' -bench Score -benchtime 2x ./metrics/score/

# Peak RSS of scoring 10,000 and 100,000 samples (warm cache) and the bytes per sample the
# larger adds: memory must not grow with the manifest beyond a few KB per sample.
bench-scale: ort build
	scripts/bench-scale.sh $(BIN) out/bench-scale

# flowdit's train step against the same model in PyTorch, one thread each; last line ratio=X.
bench-generator: blas torch
	scripts/bench-generator.sh

# Scoring against a PyTorch + PIL loop (batch 1 and 16) and ONNX Runtime alone, on the
# DreamBench photos with real-shaped random-weight encoders: samples/s, peak RSS, ratios.
bench-score: ort build torch
	CHARISBENCH_REQUIRE_ORT=1 scripts/bench-score.sh $(BIN) out/bench-score $(or $(ROUNDS),3)

# Every fuzz target for FUZZTIME each (docs/reliability.md). make test runs their seed
# corpora and saved crashers as plain tests.
FUZZTIME ?= 60s
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

# Identity and text-image retrieval of the world's encoders on held-out characters.
world-eval: ort build
	$(BIN) world check-encoders

# Refit the calibrations the world's encoders ship with (CHARIS v2: IC, PA, TD spread) on
# the train split, whose characters no benchmark uses, and write them into the embedded
# manifest charis/world/encoders/models.yaml.
WORLD_TRAIN := out/world-train
world-calibrate: ort build
	rm -rf $(WORLD_TRAIN)
	$(BIN) world build --split train --subjects 100 --prompts-per-subject 4 --seed 1 $(WORLD_TRAIN)
	$(BIN) calibrate --manifest $(WORLD_TRAIN)/manifest.jsonl --variant ground_truth --models $(WORLD_TRAIN)/models.yaml --no-cache
	cp $(WORLD_TRAIN)/models.yaml charis/world/encoders/models.yaml

# CHARIS v2's validation on charis-world (charis-v2.md's benchmark): exit 1 when a target fails.
VALIDATE_DIR := out/validate-w11
validate: ort build
	$(BIN) world build --subjects 40 --prompts-per-subject 4 --seed 11 --all-perturbations 0.25,0.5,0.75,1 $(VALIDATE_DIR)/world
	$(BIN) validate --manifest $(VALIDATE_DIR)/world/manifest.jsonl --models $(VALIDATE_DIR)/world/models.yaml --out $(VALIDATE_DIR) --no-cache --require

# Development only: retrain the charis-world encoders (about 40 minutes on 2 cores), then make world-calibrate.
world-encoders: build
	$(PY) tools/world/train_encoders.py

# Development only: regenerate the committed fixtures with Debian's Pillow and PyTorch.
dev-deps:
	apt-get update && apt-get install -y python3-pil python3-numpy python3-skimage python3-torch

fixtures:
	$(PY) tools/fixtures/make_image_fixtures.py
	$(PY) tools/fixtures/make_resize_goldens.py
	$(PY) tools/fixtures/make_ssim_goldens.py
	$(PY) tools/encoders/tiny.py
	$(PY) tools/fixtures/make_lowering_models.py

clean:
	rm -rf bin out
