package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/internal/gomlxbackend"
	"github.com/charisbench/charisbench/metrics/validate"
)

// TestScoreRuntimesAgree: `score --runtime gomlx` (GoMLX's pure-Go backend) gives every
// sample the CHARIS and axes `score` (ONNX Runtime) gives, within 1e-3, on a charis-world
// build with perturbations, with its masks stripped so the segmenter runs too.
func TestScoreRuntimesAgree(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	w := filepath.Join(dir, "world")
	if _, stderr, code := charisbench(t, "", "world", "build", "--subjects", "4", "--prompts-per-subject", "2", "--seed", "5",
		"--perturb", "recolour@1", "--perturb", "blur@1", w); code != exitOK {
		t.Fatalf("world build: exit %d: %s", code, stderr)
	}
	rows, err := charis.ReadManifest(filepath.Join(w, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	manifest, _, err := validate.StripMasks(filepath.Join(w, "manifest.jsonl"), rows, filepath.Join(dir, "mask-free"))
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]*charis.Run{}
	for _, rt := range []string{"onnxruntime", "gomlx"} {
		out := filepath.Join(dir, rt)
		if _, stderr, code := charisbench(t, "", "score", "--runtime", rt, "--manifest", manifest, "--models", filepath.Join(w, "models.yaml"),
			"--out", out, "--no-cache"); code != exitOK {
			t.Fatalf("score --runtime %s: exit %d: %s", rt, code, stderr)
		}
		if runs[rt], err = charis.ReadRun(out); err != nil {
			t.Fatal(err)
		}
	}
	a, b := runs["onnxruntime"], runs["gomlx"]
	if !strings.HasPrefix(b.Summary.Provenance.EncoderRuntime, "gomlx") || !strings.HasPrefix(a.Summary.Provenance.EncoderRuntime, "onnxruntime") {
		t.Fatalf("encoder_runtime: %q and %q", a.Summary.Provenance.EncoderRuntime, b.Summary.Provenance.EncoderRuntime)
	}
	if len(a.Samples) != len(b.Samples) || len(a.Samples) == 0 {
		t.Fatalf("%d and %d samples", len(a.Samples), len(b.Samples))
	}
	worst := 0.0
	for i, sa := range a.Samples {
		sb := b.Samples[i]
		if sa.ID != sb.ID || sa.Status != charis.StatusOK || sb.Status != charis.StatusOK || sa.MaskSource != "segmenter" {
			t.Fatalf("sample %d: %s %s (%s) vs %s %s", i, sa.ID, sa.Status, sa.MaskSource, sb.ID, sb.Status)
		}
		worst = math.Max(worst, math.Abs(*sa.CHARIS-*sb.CHARIS))
		for axis, va := range sa.Axes {
			vb, ok := sb.Axes[axis]
			if !ok || va.Inapplicable != vb.Inapplicable {
				t.Fatalf("%s: axis %s is %+v under onnxruntime, %+v under gomlx", sa.ID, axis, va, vb)
			}
			worst = math.Max(worst, math.Max(math.Abs(va.Score-vb.Score), math.Abs(va.Raw-vb.Raw)))
		}
	}
	t.Logf("%d samples: worst |difference| of CHARIS and every axis %.2e", len(a.Samples), worst)
	if worst > 1e-3 {
		t.Fatalf("runtimes disagree by %.2e", worst)
	}
}

// TestGoMLXCUDAWithoutPlugin: --runtime gomlx --device cuda on a machine without a PJRT
// CUDA plugin exits 2 and says where the plugin goes.
func TestGoMLXCUDAWithoutPlugin(t *testing.T) {
	if os.Getenv(gomlxbackend.PluginEnv) != "" {
		t.Skipf("%s is set: this machine may have a CUDA plugin", gomlxbackend.PluginEnv)
	}
	w := filepath.Join(t.TempDir(), "world")
	if _, stderr, code := charisbench(t, "", "world", "build", "--subjects", "1", "--prompts-per-subject", "1", w); code != exitOK {
		t.Fatalf("world build: exit %d: %s", code, stderr)
	}
	_, stderr, code := charisbench(t, "", "score", "--runtime", "gomlx", "--device", "cuda", "--manifest", filepath.Join(w, "manifest.jsonl"),
		"--models", filepath.Join(w, "models.yaml"), "--out", filepath.Join(w, "run"), "--no-cache")
	if code != exitUsage || !strings.Contains(stderr, gomlxbackend.PluginEnv) || !strings.Contains(stderr, "PJRT") {
		t.Fatalf("exit %d, %s", code, stderr)
	}
	if _, stderr, code := charisbench(t, "", "score", "--runtime", "tensorrt", "--manifest", filepath.Join(w, "manifest.jsonl"),
		"--models", filepath.Join(w, "models.yaml"), "--out", filepath.Join(w, "run2"), "--no-cache"); code != exitUsage || !strings.Contains(stderr, "tensorrt") {
		t.Fatalf("unknown runtime: exit %d, %s", code, stderr)
	}
}
