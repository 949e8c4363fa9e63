package score

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/world"
	"github.com/charisbench/charisbench/internal/ortest"
	"github.com/charisbench/charisbench/metrics/cache"
	"github.com/charisbench/charisbench/metrics/encoder"
)

func openRuntime(t testing.TB) *encoder.Runtime { return ortest.Runtime(t, encoder.Options{}) }

// buildWorld writes a small charis-world benchmark with the given perturbations.
func buildWorld(t testing.TB, subjects, prompts int, perturb ...string) string {
	t.Helper()
	dir := t.TempDir()
	opt := world.BuildOptions{Subjects: subjects, PromptsPerSubject: prompts, Seed: 3}
	for _, p := range perturb {
		pp, err := world.ParsePerturbation(p)
		if err != nil {
			t.Fatal(err)
		}
		opt.Perturbations = append(opt.Perturbations, pp)
	}
	if err := world.Build(dir, opt); err != nil {
		t.Fatal(err)
	}
	return dir
}

func options(t testing.TB, rt *encoder.Runtime, dir string) Options {
	t.Helper()
	m, err := charis.LoadModelManifest(filepath.Join(dir, "models.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return Options{Manifest: filepath.Join(dir, "manifest.jsonl"), Models: m, Config: charis.DefaultMetricConfig(),
		Out: t.TempDir(), Runtime: rt}
}

func readResults(t testing.TB, out string) []charis.SampleResult {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, charis.SamplesFile))
	if err != nil {
		t.Fatal(err)
	}
	var rs []charis.SampleResult
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var r charis.SampleResult
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestKnownDirections: on charis-world, each perturbation moves the axis it should. The
// measured means are logged (go test -v -run KnownDirections ./metrics/score/).
func TestKnownDirections(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 12, 4, "copy_paste@1", "recolour@1", "identity_swap@1", "blur@1", "prompt_mismatch@1")
	opt := options(t, rt, dir)
	sum, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	mean := func(variant, axis string) float64 {
		v := sum.Variants[variant]
		if v == nil || v.CHARIS == nil {
			t.Fatalf("variant %s not scored", variant)
		}
		if axis == "charis" {
			return v.CHARIS.Mean
		}
		return v.Axes[axis].Mean
	}
	for _, v := range slices.Sorted(maps.Keys(sum.Variants)) {
		t.Logf("%-18s CHARIS %.3f  IC %.3f  PA %.3f  CF %.3f  VQ %.3f  TD %.3f", v, mean(v, "charis"),
			mean(v, "ic"), mean(v, "pa"), mean(v, "cf"), mean(v, "vq"), mean(v, "td"))
	}
	gt := world.GroundTruthVariant
	checks := []struct {
		what string
		ok   bool
	}{
		{"copy-paste: IC ≈ 1", mean("copy_paste@1", "ic") > 0.999},
		{"copy-paste: CF ≈ 1", mean("copy_paste@1", "cf") > 0.999},
		{"copy-paste: TD ≈ 0", mean("copy_paste@1", "td") < 0.01},
		{"recolour moves CF more than IC", mean(gt, "cf")-mean("recolour@1", "cf") > mean(gt, "ic")-mean("recolour@1", "ic")},
		{"identity swap lowers IC", mean("identity_swap@1", "ic") < mean(gt, "ic")-0.2},
		{"blur lowers VQ", mean("blur@1", "vq") < mean(gt, "vq")-0.5},
		{"a wrong prompt lowers PA", mean("prompt_mismatch@1", "pa") < mean(gt, "pa")-0.3},
		{"the ground truth scores best", mean(gt, "charis") > mean("blur@1", "charis") && mean(gt, "charis") > mean("identity_swap@1", "charis")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("failed: %s", c.what)
		}
	}
}

// TestBadSamples: missing, corrupt and oversize images, an empty prompt and a mask of the
// wrong size each fail their sample with a reason; the others are scored.
func TestBadSamples(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 3, 2)
	samples, err := charis.ReadSamples(filepath.Join(dir, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "corrupt.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	os.WriteFile(filepath.Join(dir, "big.png"), mustPNG(t, 200, 200), 0o644)
	os.WriteFile(filepath.Join(dir, "small_mask.png"), mustPNG(t, 10, 10), 0o644)
	samples[0].Generated = "missing.png"
	samples[1].Generated = "corrupt.png"
	samples[2].Prompt = ""
	samples[3].GeneratedMask = "small_mask.png"
	samples[4].Generated = "big.png"
	var buf bytes.Buffer
	charis.WriteSamples(&buf, samples)
	os.WriteFile(filepath.Join(dir, "manifest.jsonl"), buf.Bytes(), 0o644)
	opt := options(t, rt, dir)
	opt.MaxPixels = 100 * 100
	sum, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"generated: missing.png: file not found", "generated: image corrupt.png: corrupt", "prompt: empty",
		"generated_mask: small_mask.png is 10x10", "generated: image big.png: image exceeds the pixel limit"}
	rs := readResults(t, opt.Out)
	for i, w := range want {
		if rs[i].Status != charis.StatusError || !strings.Contains(rs[i].Reason, w) {
			t.Errorf("sample %d: status %s reason %q, want error %q", i, rs[i].Status, rs[i].Reason, w)
		}
	}
	if rs[5].Status != charis.StatusOK || rs[5].CHARIS == nil {
		t.Errorf("the good sample was not scored: %+v", rs[5])
	}
	if v := sum.Variants[world.GroundTruthVariant]; v.Failures != 5 || v.N != 6 || len(v.Failed) != 5 {
		t.Errorf("summary counts %d failures of %d", v.Failures, v.N)
	}
}

func mustPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	r := world.Draw(world.SubjectIdentity(1, world.SplitBench, 0), nil, max(w, h))
	var buf bytes.Buffer
	if err := pngEncode(&buf, r.Image, w, h); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestResumeAfterInterrupt: a run stopped after its first chunk, run again, gives the same
// samples.jsonl as an uninterrupted run, with no sample lost or repeated in the work log.
func TestResumeAfterInterrupt(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 6, 4, "blur@0.5")
	full := options(t, rt, dir)
	if _, err := Run(context.Background(), full); err != nil {
		t.Fatal(err)
	}
	part := options(t, rt, dir)
	part.Chunk = 8
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stops after the first chunk
	if _, err := Run(ctx, part); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(part.Out, charis.SamplesFile)); err == nil {
		t.Fatal("an interrupted run wrote samples.jsonl")
	}
	// A kill mid-write leaves a torn last line: it must be cut, not trusted.
	f, _ := os.OpenFile(filepath.Join(part.Out, WorkFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"index":3,"id":"torn`)
	f.Close()
	if _, err := Run(context.Background(), part); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(full.Out, charis.SamplesFile))
	b, _ := os.ReadFile(filepath.Join(part.Out, charis.SamplesFile))
	if !bytes.Equal(a, b) {
		t.Fatal("resumed run's samples.jsonl differs from the uninterrupted run's")
	}
	log, _ := os.ReadFile(filepath.Join(part.Out, WorkFile))
	if n := bytes.Count(log, []byte("\n")) - 1; n != 48 {
		t.Fatalf("work log holds %d records for 48 samples", n)
	}
	// Other inputs in the same folder are refused.
	other := options(t, rt, dir)
	other.Out = part.Out
	other.Config.CF.K = 3
	if _, err := Run(context.Background(), other); err == nil || !strings.Contains(err.Error(), "--restart") {
		t.Fatalf("a changed config reused the work log: %v", err)
	}
	// The same manifest text over changed images (a generator rerun): restart rescores.
	m, err := charis.ReadManifest(part.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(filepath.Dir(part.Manifest), m[0].Generated)
	ref, err := os.ReadFile(filepath.Join(filepath.Dir(part.Manifest), m[0].Reference))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, ref, 0o644); err != nil {
		t.Fatal(err)
	}
	part.Restart = true
	if _, err := Run(context.Background(), part); err != nil {
		t.Fatal(err)
	}
	c, _ := os.ReadFile(filepath.Join(part.Out, charis.SamplesFile))
	if bytes.Equal(a, c) {
		t.Fatal("a restarted run over a changed image kept the old results")
	}
}

// TestCacheGivesSameResults: a second run through a warm cache writes identical results.
func TestCacheGivesSameResults(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 4, 3, "noise@0.5")
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cold, warm := options(t, rt, dir), options(t, rt, dir)
	cold.Cache, warm.Cache = c, c
	if _, err := Run(context.Background(), cold); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), warm); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(cold.Out, charis.SamplesFile))
	b, _ := os.ReadFile(filepath.Join(warm.Out, charis.SamplesFile))
	if !bytes.Equal(a, b) {
		t.Fatal("cached run differs")
	}
}

func TestBootstrapInterval(t *testing.T) {
	acc := newSummarizer()
	for s := range 20 {
		for k := range 3 {
			v := float64(s%5) / 4
			acc.add(&charis.SampleResult{ID: string(rune('a'+s)) + string(rune('0'+k)), Subject: string(rune('a' + s)), Variant: "v",
				Status: charis.StatusOK, CHARIS: &v, Classic: &charis.Classic{}})
		}
	}
	b := charis.DefaultMetricConfig().Bootstrap
	subjects := acc.variants["v"].subjects
	stats, counts := bootstrap(subjects, b, "v")
	st := stats["charis"]
	if len(subjects) != 20 || counts["charis"] != 60 || math.Abs(st.Mean-0.5) > 1e-12 || !(st.CI[0] < 0.5 && st.CI[1] > 0.5) || st.CI[1]-st.CI[0] > 0.5 {
		t.Fatalf("subjects %d, n %d, stat %+v", len(subjects), counts["charis"], st)
	}
	if _, ok := stats["ic"]; ok || counts["ic"] != 0 {
		t.Fatal("an axis no sample has got a stat")
	}
	again, _ := bootstrap(subjects, b, "v")
	if again["charis"] != st {
		t.Fatal("bootstrap not deterministic for a seed")
	}
}

// TestFilesThatNeverEnd: a reference that is /dev/zero or a FIFO, a file over the size
// limit, and a prompt that is not UTF-8 are each their sample's error, found before any
// read, and the run finishes (a FIFO would otherwise block it for good).
func TestFilesThatNeverEnd(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 3, 2)
	samples, err := charis.ReadSamples(filepath.Join(dir, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.png")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "large.png"), make([]byte, 4096), 0o644)
	samples[0].Reference = "/dev/zero"
	samples[1].Generated = "fifo.png"
	samples[2].Generated = "large.png"
	samples[3].Prompt = "the character, BAD turned left"
	var buf bytes.Buffer
	charis.WriteSamples(&buf, samples)
	// Raw bytes that are not UTF-8 (JSON encoding would have replaced them).
	os.WriteFile(filepath.Join(dir, "manifest.jsonl"), bytes.Replace(buf.Bytes(), []byte("BAD"), []byte("\xff\xfe"), 1), 0o644)
	opt := options(t, rt, dir)
	opt.MaxFileBytes = 2048
	done := make(chan error, 1)
	go func() { _, err := Run(context.Background(), opt); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the run did not finish: a sample blocked it")
	}
	want := []string{"reference: /dev/zero is not a regular file", "generated: fifo.png is not a regular file",
		"generated: large.png is 4096 bytes, over the limit of 2048", "prompt: not valid UTF-8"}
	rs := readResults(t, opt.Out)
	for i, w := range want {
		if rs[i].Status != charis.StatusError || !strings.Contains(rs[i].Reason, w) {
			t.Errorf("sample %d: status %s reason %q, want error %q", i, rs[i].Status, rs[i].Reason, w)
		}
	}
}

// TestStageTimings: at debug level (score --timings) the run logs each stage as it ends,
// with when and how long, the encoders' work by role, and the summary last.
func TestStageTimings(t *testing.T) {
	rt := openRuntime(t)
	opt := options(t, rt, buildWorld(t, 2, 2))
	opt.Chunk = 2
	var buf bytes.Buffer
	opt.Log = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, err := Run(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	log := buf.String()
	for _, want := range []string{`msg="chunk prepared"`, `msg="encoders loaded"`, `role=identity images=`, `role=clip_image images=`,
		`role=clip_text texts=`, `msg="chunk scored"`} {
		if !strings.Contains(log, want) {
			t.Errorf("no %s in the debug log", want)
		}
	}
	if n := strings.Count(log, `msg="chunk scored"`); n != 2 {
		t.Errorf("%d chunks scored, want 2 (4 samples in chunks of 2)", n)
	}
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if !strings.Contains(lines[len(lines)-1], "msg=finished") {
		t.Errorf("the last stage is not the summary's")
	}
	for _, l := range lines {
		if !strings.Contains(l, " at_s=") || !strings.Contains(l, " took_s=") {
			t.Errorf("a stage without its times: %s", l)
		}
	}
	if t.Failed() {
		t.Log(log)
	}
}
