package ablations

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/world"
	"github.com/charisbench/charisbench/generators/flowdit"
	"github.com/charisbench/charisbench/internal/ortest"
	"github.com/charisbench/charisbench/internal/testprog"
	"github.com/charisbench/charisbench/metrics/encoder"
	"github.com/charisbench/charisbench/metrics/score"
)

// tinyBase trains a minimal flowdit base checkpoint (a few steps: plumbing, not quality).
func tinyBase(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "base")
	cfg := flowdit.Config{ImageSize: 16, Channels: 3, Patch: 4, Dim: 16, Depth: 1, Heads: 2, TextLen: 8, TextVocab: 128, TextDepth: 1}
	if err := flowdit.Train(flowdit.TrainOptions{Stage: flowdit.Base, Config: cfg, Loss: flowdit.Masked, Steps: 2, Batch: 2,
		LearningRate: 1e-3, Seed: 1, Out: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// execGen builds the exec-protocol (version 1) test program.
func execGen(t *testing.T) string { return testprog.Build(t, "./testdata/execgen") }

func demoFile(t *testing.T, base, execBin, out string) *File {
	t.Helper()
	text := fmt.Sprintf(`version: 1
name: test
out: %s
benchmark:
  world: {subjects: 2, prompts_per_subject: 2, seed: 3, size: 32}
models: world
generators:
  - name: flowdit
    type: flowdit
    base: %s
    settings: {steps: "2", batch: "2", sample_steps: "2", rank: "2", alpha: "2"}
  - name: copies
    type: exec
    command: [%s]
grid:
  generator: flowdit
  axes:
    loss: [masked, full]
variants:
  - name: copy-reference
    generator: copies
`, out, base, execBin)
	p := filepath.Join(t.TempDir(), "ablations.yaml")
	os.WriteFile(p, []byte(text), 0o644)
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRunResumeExec: a full run, then a "crash" that lost one variant's later stages and
// left a half-written stage folder: the rerun redoes only what is missing and ends with
// identical results. The exec generator's refused samples are scored as errors.
func TestRunResumeExec(t *testing.T) {
	rt := ortest.Runtime(t, encoder.Options{})
	base, bin := tinyBase(t), execGen(t)
	out := t.TempDir()
	f := demoFile(t, base, bin, out)
	res, err := Run(context.Background(), f, Options{Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Variants) != 3 || len(res.Tables) != 8 {
		t.Fatalf("result %+v", res)
	}
	for _, f := range []string{"report.html", "table.md", "paper_masking.md", "paper_lora.tex", "evidence.md", "contact_sheet.png"} {
		if _, err := os.Stat(filepath.Join(out, "report", f)); err != nil {
			t.Errorf("report lacks %s", f)
		}
	}
	// A generator that copies the reference retrieves every subject and is SSIM-identical to
	// it; the ground truth is scored beside the variants.
	var ret map[string]score.Retrieval
	data, err := os.ReadFile(filepath.Join(out, "variants", "copy-reference", "run", RetrievalFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ret); err != nil {
		t.Fatal(err)
	}
	if r := ret["copy-reference"]; r.Top1 != 1 || r.Failed != 2 || r.Samples != 2 {
		t.Errorf("copy-reference retrieval %+v, want top-1 1 over 2 readable images, 2 failed", r)
	}
	html, err := os.ReadFile(filepath.Join(out, "report", "report.html"))
	if err != nil || !strings.Contains(string(html), "<h2>Contact sheet") {
		t.Errorf("report.html lacks the contact sheet (%v)", err)
	}
	for _, want := range []string{"<h2>Evidence: identity retrieval", "<th>CHARIS (paper)</th>", "<td>copy-reference</td>"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks the paper's tables or the evidence: %q", want)
		}
	}
	evidence, err := os.ReadFile(filepath.Join(out, "report", "evidence.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(evidence), "| "+GroundTruth+" | ") || !strings.Contains(string(evidence), "| copy-reference | 1.000 (2 of 2; 2 unreadable;") {
		t.Errorf("evidence.md lacks the ground truth or copy-reference rows:\n%s", evidence)
	}
	if !regexp.MustCompile(`\| copy-reference \|[^\n]*\| 1\.000 \[1\.000, 1\.000\] \|[^|]*\|[^|]*\|\n`).Match(evidence) { // SSIM, then CHARIS and masks
		t.Errorf("copy-reference's SSIM to the reference is not 1:\n%s", evidence)
	}
	samples := func(v string) []byte {
		b, err := os.ReadFile(filepath.Join(out, "variants", v, "run", charis.SamplesFile))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	full := samples("loss=full")
	// The exec generator refused *_p01: those samples are errors, the others scored.
	copied := string(samples("copy-reference"))
	if strings.Count(copied, `"status":"error"`) != 2 || strings.Count(copied, `"status":"ok"`) != 2 {
		t.Fatalf("exec variant results:\n%s", copied)
	}

	// Crash: loss=full lost its generated images and score; a stage was half-written.
	os.RemoveAll(filepath.Join(out, "variants", "loss=full", "generated"))
	os.RemoveAll(filepath.Join(out, "variants", "loss=full", "run"))
	os.MkdirAll(filepath.Join(out, "variants", "loss=masked", ".generated.tmp-123"), 0o755)
	ckpt := filepath.Join(out, "variants", "loss=full", "checkpoint", "lora.bin")
	before, _ := os.Stat(ckpt)
	if _, err := Run(context.Background(), f, Options{Runtime: rt}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(ckpt)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("the finished train stage was redone")
	}
	if !bytes.Equal(samples("loss=full"), full) {
		t.Error("the resumed variant's results differ from the uninterrupted run")
	}
	// Only and variants select; a report needs every variant scored.
	if _, err := Run(context.Background(), f, Options{Runtime: rt, Only: "score", Variants: []string{"loss=masked"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), f, Options{Runtime: rt, Variants: []string{"nope"}}); err == nil {
		t.Error("an unknown variant was accepted")
	}
}

// TestShardsAndMerge: two shards run disjoint variants; merge joins them and reports.
func TestShardsAndMerge(t *testing.T) {
	rt := ortest.Runtime(t, encoder.Options{})
	base, bin := tinyBase(t), execGen(t)
	outs := []string{t.TempDir(), t.TempDir()}
	var ran []string
	for i, out := range outs {
		res, err := Run(context.Background(), demoFile(t, base, bin, out), Options{Runtime: rt, Shard: i, Shards: 2})
		if err != nil {
			t.Fatal(err)
		}
		if res.Report != "" {
			t.Error("a shard wrote the report")
		}
		ran = append(ran, res.Variants...)
	}
	if len(ran) != 3 {
		t.Fatalf("shards ran %v", ran)
	}
	if _, err := Merge(demoFile(t, base, bin, t.TempDir()), outs[:1]); err == nil || !strings.Contains(err.Error(), "scored in 0 of the shard folders") {
		t.Fatalf("merging without a shard: %v", err)
	}
	if _, err := Merge(demoFile(t, base, bin, t.TempDir()), []string{outs[0], outs[0], outs[1]}); err == nil || !strings.Contains(err.Error(), "scored in 2 of the shard folders") {
		t.Fatalf("merging a shard twice: %v", err)
	}
	merged := t.TempDir()
	res, err := Merge(demoFile(t, base, bin, merged), outs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(res.Report, "paper_main.md")); err != nil {
		t.Fatal(err)
	}
	// The first shard scored the ground truth, and the evidence of the merged run shows it,
	// with the variants' images found through their shards (SSIM and the contact sheet).
	evidence, err := os.ReadFile(filepath.Join(res.Report, "evidence.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(evidence), "| "+GroundTruth+" |") {
		t.Fatalf("the merged evidence has no ground truth:\n%s", evidence)
	}
	for _, line := range strings.Split(string(evidence), "\n") {
		if strings.HasPrefix(line, "| masked") && strings.Count(line, "| – |") > 2 {
			t.Errorf("a merged variant lost its images: %s", line)
		}
	}
	if _, err := os.Stat(filepath.Join(res.Report, "contact_sheet.png")); err != nil {
		t.Fatal(err)
	}
}

// TestBenchmarkKeyNamesEncoders: a charis-world benchmark built by a charisbench with other
// world encoders is out of date (its models.yaml is what scoring uses), and the key names
// the encoders built in: the sha256 of the manifest WriteEncoders writes.
func TestBenchmarkKeyNamesEncoders(t *testing.T) {
	w := WorldSpec{Subjects: 2, PromptsPerSubject: 1, Seed: 1, Size: 64}
	if benchmarkKey(w, "a") == benchmarkKey(w, "b") {
		t.Fatal("the benchmark key ignores the world encoders")
	}
	id, err := world.EncodersID()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := world.WriteEncoders(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, world.EncoderManifest))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != id {
		t.Fatalf("EncodersID %s is not the sha256 of the written manifest", id)
	}
}
