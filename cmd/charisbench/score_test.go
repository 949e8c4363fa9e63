package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
)

// TestScoreExitCodes: 0 for a clean run, 1 when failures pass --max-failures or with
// --strict, 2 for a malformed manifest; the table and files appear either way.
func TestScoreExitCodes(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	w := filepath.Join(dir, "world")
	if _, stderr, code := charisbench(t, "", "world", "build", "--subjects", "3", "--prompts-per-subject", "2", "--seed", "2", w); code != exitOK {
		t.Fatalf("world build: exit %d: %s", code, stderr)
	}
	manifest, models := filepath.Join(w, "manifest.jsonl"), filepath.Join(w, "models.yaml")
	score := func(out string, extra ...string) (string, string, int) {
		args := append([]string{"score", "--manifest", manifest, "--models", models, "--out", filepath.Join(dir, out), "--no-cache"}, extra...)
		return charisbench(t, "", args...)
	}
	stdout, stderr, code := score("clean")
	if code != exitOK || !strings.Contains(stdout, "ground_truth") || !strings.Contains(stdout, "CHARIS") {
		t.Fatalf("clean run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var sum charis.Summary
	data, _ := os.ReadFile(filepath.Join(dir, "clean", charis.SummaryFile))
	if err := json.Unmarshal(data, &sum); err != nil || sum.Variants["ground_truth"].N != 6 {
		t.Fatalf("summary: %v %+v", err, sum.Variants)
	}

	// One of six samples broken: 17% fails the default 5%, passes --max-failures 0.2,
	// fails --strict.
	text, _ := os.ReadFile(manifest)
	broken := strings.Replace(string(text), "targets/s0000_p00.png", "targets/nope.png", 1)
	os.WriteFile(manifest, []byte(broken), 0o644)
	if _, stderr, code := score("broken"); code != exitFailed || !strings.Contains(stderr, "1 of 6 samples failed") {
		t.Fatalf("default threshold: exit %d, %s", code, stderr)
	}
	if _, stderr, code := score("broken2", "--max-failures", "0.2"); code != exitOK {
		t.Fatalf("--max-failures 0.2: exit %d, %s", code, stderr)
	}
	if _, _, code := score("broken3", "--max-failures", "0.2", "--strict"); code != exitFailed {
		t.Fatalf("--strict: exit %d", code)
	}
	os.WriteFile(manifest, []byte("{not json\n"), 0o644)
	if _, stderr, code := score("bad"); code != exitUsage || !strings.Contains(stderr, "manifest.jsonl:1") {
		t.Fatalf("malformed manifest: exit %d, %s", code, stderr)
	}
	if _, _, code := charisbench(t, "", "score", "--manifest", manifest); code != exitUsage {
		t.Fatalf("missing flags: exit %d", code)
	}
}
