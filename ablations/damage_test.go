package ablations

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/internal/ortest"
	"github.com/charisbench/charisbench/metrics/encoder"
)

// TestDamagedRunFolder: a finished run whose state files were cut, emptied, filled with
// garbage or swapped for another variant's. `run` again either continues and ends with
// results identical to the undamaged run's, or refuses naming the file and how to recover.
func TestDamagedRunFolder(t *testing.T) {
	rt := ortest.Runtime(t, encoder.Options{})
	base, bin := tinyBase(t), execGen(t)
	out := t.TempDir()
	f := demoFile(t, base, bin, out)
	if _, err := Run(context.Background(), f, Options{Runtime: rt}); err != nil {
		t.Fatal(err)
	}
	masked := filepath.Join(out, "variants", "loss=masked")
	state := map[string][]byte{}
	for _, p := range []string{
		filepath.Join(masked, "run", charis.SummaryFile), filepath.Join(masked, "run", charis.SamplesFile),
		filepath.Join(masked, "run", RetrievalFile), filepath.Join(out, GroundTruth, "run", charis.SummaryFile),
		filepath.Join(out, "variants", "loss=full", "run", charis.SummaryFile), filepath.Join(out, "report", "table.md"),
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		state[p] = b
	}
	summary := filepath.Join(masked, "run", charis.SummaryFile)
	samples := filepath.Join(masked, "run", charis.SamplesFile)
	truth := filepath.Join(out, GroundTruth, "run", charis.SummaryFile)
	other := filepath.Join(out, "variants", "loss=full", "run", charis.SummaryFile)
	half := func(p string) []byte { return state[p][:len(state[p])/2] }
	cases := []struct {
		name   string
		file   string
		damage []byte
		refuse string // "" when the run continues
	}{
		{"summary cut in half", summary, half(summary), ""},
		{"summary empty", summary, []byte{}, ""},
		{"summary with garbage appended", summary, append(bytes.Clone(state[summary]), "\x00garbage\n"...), ""},
		{"another variant's summary", summary, state[other], ""},
		{"samples cut inside a line", samples, half(samples), ""},
		{"samples cut at a line", samples, state[samples][:bytes.IndexByte(state[samples], '\n')+1], ""},
		{"retrieval garbage", filepath.Join(masked, "run", RetrievalFile), []byte("{\"loss=masked\": [garbage"), ""},
		{"ground truth summary cut", truth, half(truth), ""},
		{"checkpoint.json cut", filepath.Join(masked, "checkpoint", "checkpoint.json"), []byte(`{"config": {"ima`), "delete " + filepath.Join(masked, "checkpoint") + " to train the variant again"},
		{"lora.bin empty", filepath.Join(masked, "checkpoint", "lora.bin"), []byte{}, "delete " + filepath.Join(masked, "checkpoint") + " to train the variant again"},
		{"generated manifest cut", filepath.Join(masked, "generated", "manifest.jsonl"), []byte(`{"id": "s0`), "delete " + filepath.Join(masked, "generated") + " to generate the variant again"},
		{"benchmark manifest cut", filepath.Join(out, "benchmark", "manifest.jsonl"), []byte(`{"id"`), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keep, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(c.file, keep, 0o644)
			if err := os.WriteFile(c.file, c.damage, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = Run(context.Background(), f, Options{Runtime: rt})
			if c.refuse != "" {
				if err == nil || !strings.Contains(err.Error(), c.file) || !strings.Contains(err.Error(), c.refuse) {
					t.Fatalf("error %v, want one naming %s and saying %q", err, c.file, c.refuse)
				}
				return
			}
			if err != nil {
				t.Fatalf("did not continue: %v", err)
			}
			for p, want := range state {
				if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s differs from the undamaged run's (%v)", p, err)
				}
			}
		})
	}
	// A report written over the folder as it is (merge does) refuses a damaged ground truth
	// instead of leaving its row out.
	if err := os.WriteFile(truth, half(truth), 0o644); err != nil {
		t.Fatal(err)
	}
	vs, err := f.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteReport(out, vs); err == nil || !strings.Contains(err.Error(), truth) {
		t.Errorf("report over a damaged ground truth: %v, want an error naming %s", err, truth)
	}
}
