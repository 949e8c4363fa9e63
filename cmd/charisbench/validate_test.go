package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCalibrateAndValidateExitCodes: calibrate writes its fit (exit 0) and refuses too few
// subjects (2); validate exits 0 with a verdict, 1 under --require when a target fails,
// 2 for missing flags.
func TestCalibrateAndValidateExitCodes(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	w := filepath.Join(dir, "world")
	if _, stderr, code := charisbench(t, "", "world", "build", "--subjects", "5", "--prompts-per-subject", "2", "--seed", "7",
		"--perturb", "blur@0.5,blur@1,copy_paste@1", w); code != exitOK {
		t.Fatalf("world build: exit %d: %s", code, stderr)
	}
	manifest, models := filepath.Join(w, "manifest.jsonl"), filepath.Join(w, "models.yaml")
	stdout, stderr, code := charisbench(t, "", "calibrate", "--manifest", manifest, "--variant", "ground_truth", "--models", models, "--no-cache")
	if code != exitOK || !strings.Contains(stdout, "wrote the calibrations") {
		t.Fatalf("calibrate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if text := readFile(t, models); !strings.Contains(text, "data_sha256:") || !strings.Contains(text, "command: charisbench calibrate --manifest") {
		t.Fatalf("the manifest carries no fit:\n%s", text)
	}
	if _, stderr, code := charisbench(t, "", "calibrate", "--manifest", manifest, "--models", models, "--no-cache"); code != exitUsage || !strings.Contains(stderr, "--variant") {
		t.Fatalf("several variants without --variant: exit %d, %s", code, stderr)
	}
	small := filepath.Join(dir, "small")
	charisbench(t, "", "world", "build", "--subjects", "3", "--prompts-per-subject", "2", "--seed", "7", small)
	if _, stderr, code := charisbench(t, "", "calibrate", "--manifest", filepath.Join(small, "manifest.jsonl"),
		"--models", filepath.Join(small, "models.yaml"), "--no-cache"); code != exitUsage || !strings.Contains(stderr, "at least 5") {
		t.Fatalf("3 subjects: exit %d, %s", code, stderr)
	}

	out := filepath.Join(dir, "validation")
	stdout, stderr, code = charisbench(t, "", "validate", "--manifest", manifest, "--models", models, "--out", out, "--no-cache")
	if code != exitOK || !strings.Contains(stdout, "validation ") {
		t.Fatalf("validate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, f := range []string{"validation.md", "validation.html", "validation.json", "purity.png", "separation.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatalf("validate wrote no %s: %v", f, err)
		}
	}
	// A run whose only family is the ground truth itself fails the separation target.
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, filepath.Join(out, "run", "samples.jsonl"))), "\n") {
		if !strings.Contains(line, `"variant":"ground_truth"`) {
			continue
		}
		copied := strings.Replace(line, `"variant":"ground_truth"`, `"variant":"blur@1"`, 1)
		copied = strings.Replace(copied, `","subject"`, `@blur@1","subject"`, 1) // id ID@blur@1
		rows = append(rows, line, copied)
	}
	flat := filepath.Join(dir, "flat")
	os.MkdirAll(flat, 0o755)
	os.WriteFile(filepath.Join(flat, "samples.jsonl"), []byte(strings.Join(rows, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(flat, "summary.json"), []byte(readFile(t, filepath.Join(out, "run", "summary.json"))), 0o644)
	if stdout, stderr, code := charisbench(t, "", "validate", "--run", flat, "--out", filepath.Join(dir, "v2"), "--require"); code != exitFailed ||
		!strings.Contains(stdout, "FAIL separation blur@1") {
		t.Fatalf("a family equal to the ground truth under --require: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, _, code := charisbench(t, "", "validate", "--run", flat, "--out", filepath.Join(dir, "v3")); code != exitOK {
		t.Fatalf("the same without --require: exit %d, want 0 (the verdict is printed)", code)
	}
	if _, _, code := charisbench(t, "", "validate", "--manifest", manifest); code != exitUsage {
		t.Fatalf("missing --out: exit %d", code)
	}
}
