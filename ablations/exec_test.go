package ablations

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/internal/ortest"
	"github.com/charisbench/charisbench/internal/testprog"
	"github.com/charisbench/charisbench/metrics/encoder"
)

// fakegen builds the protocol-2 test program of generators/external.
func fakegen(t *testing.T) string {
	return testprog.Build(t, "../generators/external/testdata/fakegen")
}

func execV2File(t *testing.T, bin, out, extra string) *File {
	t.Helper()
	text := fmt.Sprintf(`version: 1
name: v2
out: %s
benchmark:
  world: {subjects: 2, prompts_per_subject: 2, seed: 3, size: 32}
models: world
generators:
  - name: torch
    type: exec
    protocol: 2
    command: [%s]
    samples_per_prompt: 2
    settings: {steps: 3, lr: 1e-3, backbone: tiny, ema: true}
  - name: crashing
    type: exec
    protocol: 2
    command: [env, FAKEGEN_FAULT=crash, %s]
grid:
  generator: torch
  axes:
    rank: [2, "4"]
%s`, out, bin, bin, extra)
	f, err := Load(write(t, text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func logged(t *testing.T, path string) []string {
	t.Helper()
	b, _ := os.ReadFile(path)
	var ids []string
	for _, l := range strings.Fields(string(b)) {
		if l != "train" {
			ids = append(ids, l)
		}
	}
	slices.Sort(ids)
	return ids
}

// TestExecV2: settings reach the program typed, each variant trains once, several seeds
// per prompt are generated, a crashing variant fails alone, and generation resumes image
// by image: after losing its last answers, only those are asked again.
func TestExecV2(t *testing.T) {
	rt := ortest.Runtime(t, encoder.Options{})
	bin := fakegen(t)
	out := t.TempDir()
	log := filepath.Join(t.TempDir(), "requests.log")
	t.Setenv("FAKEGEN_LOG", log)
	f := execV2File(t, bin, out, "variants:\n  - name: crashes\n    generator: crashing\n")
	res, err := Run(context.Background(), f, Options{Runtime: rt})
	if err == nil || !strings.Contains(err.Error(), "variant crashes, generate") || !strings.Contains(err.Error(), "CUDA out of memory (simulated)") {
		t.Fatalf("a crashing variant: %v, want its error with the program's standard error", err)
	}
	if res == nil || len(res.Variants) != 2 {
		t.Fatalf("the other variants did not finish: %+v", res)
	}
	var settings map[string]any
	b, _ := os.ReadFile(filepath.Join(out, "variants", "rank=4", "checkpoint", "settings.json"))
	if err := json.Unmarshal(b, &settings); err != nil {
		t.Fatal(err)
	}
	if settings["rank"] != 4.0 || settings["steps"] != 3.0 || settings["backbone"] != "tiny" || settings["ema"] != true || settings["loss"] != "masked" {
		t.Fatalf("settings the program received: %v", settings)
	}
	rows, err := charis.ReadManifest(filepath.Join(out, "variants", "rank=2", "generated", "manifest.jsonl"))
	if err != nil || len(rows) != 8 || rows[1].ID != "s0000_p00_g1" {
		t.Fatalf("generated manifest: %v rows, first ids %v, %v", len(rows), rows[0].ID, err)
	}
	// Four prompts, two seeds: 8 images per variant, each asked once.
	if n := len(logged(t, log)); n != 8+8+2 { // the crashing variant answered one request and died on the next
		t.Fatalf("%d requests in all, want 18", n)
	}

	// Lose the last three answers of rank=2 as a kill -9 would (the stage not yet renamed).
	v := filepath.Join(out, "variants", "rank=2")
	os.Rename(filepath.Join(v, "generated"), filepath.Join(v, "generating"))
	os.Remove(filepath.Join(v, "generating", keyFile))
	j := filepath.Join(v, "generating", "journal.jsonl")
	lines := strings.Split(strings.TrimSpace(readString(t, j)), "\n")
	os.WriteFile(j, []byte(strings.Join(lines[:5], "\n")+"\n"), 0o644)
	var lost []string
	for _, l := range lines[5:] {
		var e journalEntry
		json.Unmarshal([]byte(l), &e)
		lost = append(lost, e.ID)
	}
	slices.Sort(lost)
	os.Remove(log)
	f = execV2File(t, bin, out, "")
	if _, err := Run(context.Background(), f, Options{Runtime: rt}); err != nil {
		t.Fatal(err)
	}
	if got := logged(t, log); !slices.Equal(got, lost) {
		t.Fatalf("after the loss, requested %v, want only the lost %v", got, lost)
	}

	// A changed setting changes the requests: rank=2's images are asked again, and only its.
	os.Remove(log)
	f = execV2File(t, bin, out, "")
	f.Generators[0].Settings["steps"] = Value{Text: "4", Tag: "!!int"}
	if _, err := Run(context.Background(), f, Options{Runtime: rt, Variants: []string{"rank=2"}}); err != nil {
		t.Fatal(err)
	}
	if got := logged(t, log); len(got) != 8 {
		t.Fatalf("after changing steps, %d requests, want all 8 of the variant", len(got))
	}

	// A third seed per prompt: only the new images are asked for; the finished ones stay.
	os.Remove(log)
	f.Generators[0].SamplesPerPrompt = 3
	if _, err := Run(context.Background(), f, Options{Runtime: rt, Variants: []string{"rank=2"}}); err != nil {
		t.Fatal(err)
	}
	if got := logged(t, log); len(got) != 4 || !strings.HasSuffix(got[0], "_g2") {
		t.Fatalf("after adding a seed, requested %v, want the 4 _g2 images only", got)
	}
	rows, err = charis.ReadManifest(filepath.Join(out, "variants", "rank=2", "generated", "manifest.jsonl"))
	if err != nil || len(rows) != 12 {
		t.Fatalf("generated manifest: %d rows, want 12 (%v)", len(rows), err)
	}
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestJournalDamage: a journal a kill or a stray writer damaged keeps the entries it can
// trust: a torn last line, garbage and an image outside the folder are skipped (those images
// are asked again), and the next entry after a torn line starts a line of its own.
func TestJournalDamage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "journal.jsonl")
	good := `{"key":"a","id":"x","image":"images/x.png"}`
	body := good + "\ngarbage\n{}\n" + `{"key":"b","id":"y","image":"../../y.png"}` + "\n" + `{"key":"c","id":"z","ima`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	done, err := readJournal(p)
	if err != nil || len(done) != 1 || done["a"].Image != "images/x.png" {
		t.Fatalf("entries kept: %v, %v", done, err)
	}
	jf, err := openJournal(p)
	if err != nil {
		t.Fatal(err)
	}
	jf.Write([]byte(`{"key":"d","id":"w","image":"images/w.png"}` + "\n"))
	jf.Close()
	if done, err = readJournal(p); err != nil || len(done) != 2 || done["d"].ID != "w" {
		t.Fatalf("an entry after a torn line: %v, %v", done, err)
	}
	os.WriteFile(p, []byte(strings.Repeat("x", 2<<20)), 0o644)
	if _, err := readJournal(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("an overlong line: %v", err)
	}
}
