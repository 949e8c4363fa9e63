package score

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/charis/world"
)

// goldenV1 was written by CHARIS v1 as it stood before version 2 existed (samples of the
// world below, scored with the world's uncalibrated encoders of the time, kept in
// v1Encoders): raw and score of each axis and the aggregate, per sample.
const (
	goldenV1   = "testdata/v1_golden.jsonl"
	v1Encoders = "testdata/v1_encoders/models.yaml"
)

// TestV1Golden: a metric config with version 1 reproduces v1's numbers on a fixed world
// build. The build's copy_paste is used at strength 1 only (its lower strengths changed
// with the builder, not the metric).
func TestV1Golden(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 5, 2, "identity_swap@0.5", "identity_swap@1", "recolour@1", "prompt_mismatch@1", "blur@1",
		"noise@1", "jpeg@1", "blank@0.5", "blank@1", "copy_paste@1")
	opt := options(t, rt, dir)
	var err error
	if opt.Models, err = charis.LoadModelManifest(v1Encoders); err != nil {
		t.Fatal(err)
	}
	if opt.Config, err = charis.MetricConfigVersion(charis.MetricV1); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	got := map[string]charis.SampleResult{}
	for _, r := range readResults(t, opt.Out) {
		got[r.ID] = r
	}
	f, err := os.Open(goldenV1)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The encoders compute in float32 with ONNX Runtime's kernels for the CPU at hand (AVX2,
	// AVX-512, ...), whose sums round differently: on an AVX2-only CPU the scores moved from
	// the golden by up to ~4e-8. The tolerance allows that, not a change of a formula.
	const tol = 1e-6
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var want struct {
			ID     string
			CHARIS float64
			Axes   map[string]struct{ Raw, Score float64 }
		}
		if err := json.Unmarshal(sc.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		r, ok := got[want.ID]
		if !ok {
			t.Fatalf("sample %s not scored", want.ID)
		}
		if math.Abs(*r.CHARIS-want.CHARIS) > tol {
			t.Errorf("%s: CHARIS %.17g, golden %.17g", want.ID, *r.CHARIS, want.CHARIS)
		}
		for a, w := range want.Axes {
			v := r.Axes[a]
			if math.Abs(v.Raw-w.Raw) > tol || math.Abs(v.Score-w.Score) > tol {
				t.Errorf("%s %s: raw %.17g score %.17g, golden %.17g %.17g", want.ID, a, v.Raw, v.Score, w.Raw, w.Score)
			}
		}
		n++
	}
	if n != len(got) || n == 0 {
		t.Fatalf("golden has %d samples, the run %d", n, len(got))
	}
}

// TestV2Run: the default metric is v2: CF is absent where the prompt licenses a colour
// change and counted per axis in the summary, charis_geo is reported, and the world's
// shipped calibrations are used and recorded.
func TestV2Run(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 6, 3)
	opt := options(t, rt, dir)
	sum, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	licensed, absent := 0, 0
	for _, r := range readResults(t, opt.Out) {
		if r.CHARISGeo == nil {
			t.Fatalf("%s: no charis_geo", r.ID)
		}
		cf := r.Axes[charis.AxisCF]
		if cf.Applies() {
			continue
		}
		absent++
		if cf.Diag["reason"] == "licensed" {
			licensed++
			if cf.Diag["licensed_by"] == nil {
				t.Errorf("%s: CF licensed by no phrase: %v", r.ID, cf.Diag)
			}
		}
	}
	v := sum.Variants[world.GroundTruthVariant]
	if licensed == 0 || v.AxisN[charis.AxisCF] != 18-absent || v.AxisN[charis.AxisIC] != 18 {
		t.Fatalf("CF absent from %d of 18 (%d licensed); axis n %v", absent, licensed, v.AxisN)
	}
	if v.CHARISGeo == nil {
		t.Fatal("summary has no charis_geo")
	}
	p := sum.Provenance
	if len(p.Uncalibrated) != 0 || p.Calibrations[calIC].Fit == nil || p.Calibrations[calTDSpread].Fit == nil {
		t.Fatalf("the world ships calibrated: uncalibrated %v, calibrations %+v", p.Uncalibrated, p.Calibrations)
	}
	run, err := charis.ReadRun(opt.Out)
	if err != nil {
		t.Fatalf("a v2 run reads back: %v", err)
	}
	if _, ok := run.Samples[0].Value("charis_geo"); !ok {
		t.Fatal("charis_geo not readable")
	}
}

// TestCalibrateKnownFit: a fit on the world's ground truth equals, to the last digit, the
// means computed here from the axes' own functions on the same pairs, and it is written
// into the manifest and read back.
func TestCalibrateKnownFit(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 6, 2)
	m, err := charis.LoadModelManifest(filepath.Join(dir, "models.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	opt := CalibrateOptions{Manifest: filepath.Join(dir, "manifest.jsonl"), Models: m, Config: charis.DefaultMetricConfig(),
		Runtime: rt, Mismatches: 5, Seed: 1, Command: "test"}
	cals, err := Calibrate(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	ic := cals[charis.RoleIdentity]
	// 6 subjects, 5 mismatches each: every other subject exactly once per sample.
	if ic.Fit.Matched != 12 || ic.Fit.Mismatched != 60 || ic.Fit.Subjects != 6 || !(ic.Hi > ic.Lo) {
		t.Fatalf("IC fit %+v %+v", ic, ic.Fit)
	}
	// Recompute IC's means independently from a scored run of the same rows with lo=0, hi=1.
	for i := range m.Encoders {
		m.Encoders[i].Calibration = nil
	}
	so := Options{Manifest: opt.Manifest, Models: m, Config: charis.DefaultMetricConfig(), Out: t.TempDir(), Runtime: rt}
	if _, err := Run(context.Background(), so); err != nil {
		t.Fatal(err)
	}
	matched, paM := 0.0, 0.0
	rs := readResults(t, so.Out)
	for _, r := range rs {
		matched += r.Axes[charis.AxisIC].Raw
		paM += r.Axes[charis.AxisPA].Raw
	}
	if d := math.Abs(matched/float64(len(rs)) - ic.Hi); d > 1e-9 {
		t.Fatalf("IC hi %v, mean matched raw IC of the scored run %v", ic.Hi, matched/float64(len(rs)))
	}
	if d := math.Abs(paM/float64(len(rs)) - cals[charis.RoleCLIPText].Hi); d > 1e-6 {
		t.Fatalf("PA hi %v, mean raw PA of the scored run %v", cals[charis.RoleCLIPText].Hi, paM/float64(len(rs)))
	}
	back, err := m.WriteCalibrations(cals)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Encoder(charis.RoleIdentity).Calibration; got == nil || got.Lo != ic.Lo || got.Fit.DataSHA256 != ic.Fit.DataSHA256 {
		t.Fatalf("written calibration %+v, want %+v", got, ic)
	}
	opt.Manifest = buildWorld(t, 4, 2) + "/manifest.jsonl"
	if _, err := Calibrate(context.Background(), opt); err == nil {
		t.Fatal("4 subjects: calibration accepted, want a refusal")
	}
}

// TestLumaViewIC: a generated subject without colours (here the world's render turned
// gray) makes IC compare the luma of both images (docs/metric.md, v2 change 7), whatever
// the prompt says; its IC is that of the pair turned gray before scoring, up to the
// rounding of resizing before or after the conversion. The coloured render compares
// colours.
func TestLumaViewIC(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 2, 2)
	opt := options(t, rt, dir)
	rows, err := charis.ReadManifest(opt.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rows, func(s charis.Sample) bool { return !strings.Contains(s.Prompt, "sketch") })
	if i < 0 {
		t.Fatal("the world has no render in colour")
	}
	s := rows[i]
	gray := func(rel string) string {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		img, err := imageio.Decode(data, rel, imageio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out := "gray-" + filepath.Base(rel)
		if err := imageio.WritePNG(filepath.Join(dir, out), lumaView(img)); err != nil {
			t.Fatal(err)
		}
		return out
	}
	grayG, grayR := gray(s.Generated), gray(s.Reference)
	samples := map[string]charis.Sample{}
	for _, c := range []struct{ id, prompt, ref, gen string }{
		{"colour", "the character", s.Reference, s.Generated},
		{"gray", "the character", s.Reference, grayG},
		{"gray-sketch", "the character, as a pencil sketch", s.Reference, grayG},
		{"both-gray", "the character", grayR, grayG},
	} {
		r := s
		r.ID, r.Prompt, r.Reference, r.Generated = c.id, c.prompt, c.ref, c.gen
		samples[c.id] = r
	}
	var b []byte
	for _, r := range samples {
		line, _ := json.Marshal(r)
		b = append(append(b, line...), '\n')
	}
	opt.Manifest = filepath.Join(dir, "luma.jsonl")
	if err := os.WriteFile(opt.Manifest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	ic := map[string]charis.AxisValue{}
	for _, r := range readResults(t, opt.Out) {
		ic[r.ID] = r.Axes[charis.AxisIC]
	}
	below := opt.Config.IC.LumaBelow
	for id, v := range ic {
		spread, _ := v.Diag["colour_spread"].(float64)
		if luma := v.Diag["view"] == "luma"; luma != (id != "colour") || luma != (spread < below) {
			t.Errorf("%s: IC view %v at colour spread %v (luma below %v)", id, v.Diag["view"], spread, below)
		}
	}
	if ic["gray"].Raw != ic["gray-sketch"].Raw {
		t.Errorf("the prompt moved IC: %v, under a sketch prompt %v", ic["gray"].Raw, ic["gray-sketch"].Raw)
	}
	t.Logf("raw IC: gray G %.5f, both gray %.5f, colour %.5f", ic["gray"].Raw, ic["both-gray"].Raw, ic["colour"].Raw)
	if d := math.Abs(ic["gray"].Raw - ic["both-gray"].Raw); d > 0.01 {
		t.Errorf("raw IC of the luma views %.5f, of the pair turned gray %.5f", ic["gray"].Raw, ic["both-gray"].Raw)
	}
}
