package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGateExitCodes scores a charis-world ground truth as the baseline and the same ids
// with blurred generations as the candidate, then asserts every gate exit code.
func TestGateExitCodes(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	w := filepath.Join(dir, "world")
	if _, stderr, code := charisbench(t, "", "world", "build", "--subjects", "8", "--prompts-per-subject", "3", "--seed", "4", "--perturb", "blur@1", w); code != exitOK {
		t.Fatalf("world build: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(w, "manifest.jsonl"))), "\n")
	var gt, blurred []string
	for _, l := range lines {
		if strings.Contains(l, `"variant":"ground_truth"`) {
			gt = append(gt, l)
			// Same id, the blurred image as the generation: a real regression.
			id := l[strings.Index(l, `"id":"`)+6:]
			id = id[:strings.Index(id, `"`)]
			blurred = append(blurred, strings.Replace(l, "targets/"+id+".png", "perturbed/blur@1/"+id+".png", 1))
		}
	}
	write := func(name string, rows []string) string {
		p := filepath.Join(w, name)
		os.WriteFile(p, []byte(strings.Join(rows, "\n")+"\n"), 0o644)
		return p
	}
	models := filepath.Join(w, "models.yaml")
	score := func(manifest, out string) string {
		t.Helper()
		o := filepath.Join(dir, out)
		if _, stderr, code := charisbench(t, "", "score", "--manifest", manifest, "--models", models, "--out", o, "--no-cache"); code != exitOK {
			t.Fatalf("score %s: %s", out, stderr)
		}
		return o
	}
	base := score(write("base.jsonl", gt), "base")
	same := score(write("same.jsonl", gt), "same")
	worse := score(write("worse.jsonl", blurred), "worse")
	fewer := score(write("fewer.jsonl", gt[:len(gt)-6]), "fewer")

	gate := func(a, b string, extra ...string) (string, string, int) {
		return charisbench(t, "", append([]string{"gate", "--baseline", a, "--candidate", b}, extra...)...)
	}
	if out, stderr, code := gate(base, same); code != exitOK || !strings.Contains(out, "pass") {
		t.Errorf("identical runs: exit %d\n%s%s", code, out, stderr)
	}
	if out, _, code := gate(base, worse); code != exitFailed || !strings.Contains(out, "regression") {
		t.Errorf("blurred candidate: exit %d\n%s", code, out)
	}
	if out, _, code := gate(base, worse, "--json"); code != exitFailed || !strings.Contains(out, `"pass": false`) {
		t.Errorf("--json: exit %d\n%s", code, out)
	}
	if _, stderr, code := gate(base, fewer); code != exitUsage || !strings.Contains(stderr, "one run only") {
		t.Errorf("mismatched manifests: exit %d, %s", code, stderr)
	}
	damaged := filepath.Join(dir, "damaged")
	os.MkdirAll(damaged, 0o755)
	os.WriteFile(filepath.Join(damaged, "summary.json"), []byte(readFile(t, filepath.Join(base, "summary.json"))), 0o644)
	samples := readFile(t, filepath.Join(base, "samples.jsonl"))
	i := strings.Index(samples, `"charis":`)
	j := i + strings.IndexAny(samples[i:], ",}")
	os.WriteFile(filepath.Join(damaged, "samples.jsonl"), []byte(samples[:i]+`"charis":NaN`+samples[j:]), 0o644)
	if _, stderr, code := gate(base, damaged); code != exitUsage || !strings.Contains(stderr, "samples.jsonl:1") {
		t.Errorf("NaN in a run: exit %d, %s", code, stderr)
	}
	if _, _, code := gate(base, filepath.Join(dir, "nowhere")); code != exitUsage {
		t.Errorf("missing run: exit %d", code)
	}
	if _, _, code := gate(base, same, "--metric", "sharpness"); code != exitUsage {
		t.Errorf("unknown metric: exit %d", code)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
