package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestManifestDreamBench: one command from a generated folder to a manifest; a missing
// image is exit 2 naming the folder.
func TestManifestDreamBench(t *testing.T) {
	const data = "../../../shared/data/dreambench"
	gen := filepath.Join(t.TempDir(), "ours")
	for _, p := range []string{"dog/00_0.png", "dog/01_0.jpg", "backpack/24_0.webp"} {
		os.MkdirAll(filepath.Join(gen, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(gen, p), nil, 0o644)
	}
	out := filepath.Join(t.TempDir(), "m.jsonl")
	_, stderr, code := charisbench(t, "", "manifest", "dreambench", data, gen, "--samples", "1", "-o", out)
	if code != exitUsage || !strings.Contains(stderr, gen+": 747 of 750 generated images are missing") {
		t.Errorf("exit %d, %s; want exit 2 naming the missing images", code, stderr)
	}
	stdout, stderr, code := charisbench(t, "", "manifest", "dreambench", data, gen, "--samples", "1", "--skip-missing", "-o", out)
	if code != exitOK || !strings.Contains(stdout, "wrote 3 samples of 30 subjects") || !strings.Contains(stdout, "747 missing images left out") {
		t.Fatalf("exit %d, %s%s", code, stdout, stderr)
	}
	if b, err := os.ReadFile(out); err != nil || strings.Count(string(b), "\n") != 3 || !strings.Contains(string(b), `"prompt":"a cube shaped sks backpack"`) {
		t.Errorf("manifest %s (%v)", b, err)
	}
	if _, stderr, code := charisbench(t, "", "manifest", "dreambench", data, gen); code != exitUsage || !strings.Contains(stderr, "-o MANIFEST is required") {
		t.Errorf("no -o: exit %d, %s", code, stderr)
	}
}
