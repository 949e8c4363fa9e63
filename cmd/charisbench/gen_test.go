package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenTrainSampleScore: base training, LoRA fine-tuning, sampling a world manifest and
// scoring the samples chain together (a handful of steps: this checks plumbing, not
// quality).
func TestGenTrainSampleScore(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	base, ft := filepath.Join(dir, "base"), filepath.Join(dir, "ft")
	if _, stderr, code := charisbench(t, "", "gen", "train", "--stage", "base", "--steps", "2", "--batch", "2", "--out", base); code != exitOK {
		t.Fatalf("base: exit %d: %s", code, stderr)
	}
	if _, stderr, code := charisbench(t, "", "gen", "train", "--stage", "finetune", "--base", base, "--lora", "attn+modulation",
		"--rank", "2", "--loss", "full", "--steps", "2", "--batch", "2", "--out", ft); code != exitOK {
		t.Fatalf("finetune: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"checkpoint.json", "base.bin", "lora.bin"} {
		if _, err := os.Stat(filepath.Join(ft, f)); err != nil {
			t.Fatalf("fine-tuned checkpoint lacks %s", f)
		}
	}
	w := filepath.Join(dir, "world")
	if _, stderr, code := charisbench(t, "", "world", "build", "--subjects", "2", "--prompts-per-subject", "2", "--seed", "3", w); code != exitOK {
		t.Fatalf("world: %s", stderr)
	}
	gen := filepath.Join(dir, "gen")
	stdout, stderr, code := charisbench(t, "", "gen", "sample", "--ckpt", ft, "--manifest", filepath.Join(w, "manifest.jsonl"),
		"--steps", "2", "--variant", "ft", "--out", gen)
	if code != exitOK || !strings.Contains(stdout, "generated 4 images") {
		t.Fatalf("sample: exit %d: %s%s", code, stdout, stderr)
	}
	stdout, stderr, code = charisbench(t, "", "score", "--manifest", filepath.Join(gen, "manifest.jsonl"),
		"--models", filepath.Join(w, "models.yaml"), "--out", filepath.Join(dir, "run"), "--no-cache")
	if code != exitOK || !strings.Contains(stdout, "ft") {
		t.Fatalf("score: exit %d: %s%s", code, stdout, stderr)
	}
	for _, bad := range [][]string{
		{"gen", "train", "--stage", "finetune", "--out", filepath.Join(dir, "x")},
		{"gen", "train", "--stage", "finetune", "--base", base, "--lora", "mlp", "--out", filepath.Join(dir, "x")},
		{"gen", "train", "--loss", "half", "--out", filepath.Join(dir, "x")},
		{"gen", "sample", "--ckpt", filepath.Join(dir, "nowhere"), "--manifest", "m.jsonl", "--out", filepath.Join(dir, "y")},
	} {
		if _, _, code := charisbench(t, "", bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}
