package metrics

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/colour"
)

// TestICNoSubjectPatchesV2: with no subject patch, version 1 halves the CLS cosine,
// version 2 takes it whole.
func TestICNoSubjectPatchesV2(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	a := randTokens(r, 4, 16)
	masked := a
	masked.Subject = make([]bool, 16) // empty mask
	v1 := IC(masked, a, nil, charis.MetricV1)
	v2 := IC(masked, a, nil, charis.MetricV2)
	if math.Abs(v1.Raw-0.5) > 1e-6 || math.Abs(v2.Raw-1) > 1e-6 {
		t.Fatalf("same CLS, no subject patch: v1 raw %v (want 0.5), v2 raw %v (want 1)", v1.Raw, v2.Raw)
	}
	if v2.Diag["no_subject_patches"] != true {
		t.Fatal("v2: no_subject_patches not flagged")
	}
	cal := &charis.Calibration{Lo: 0.4, Hi: 0.8}
	if got := IC(a, a, cal, charis.MetricV2).Score; got != 1 {
		t.Fatalf("calibrated identical IC %v, want 1 (clamped)", got)
	}
}

// partTokens builds a 4×4 grid of two parts: the left half's patches share one token, the
// right half's another, so k-means (K=2) finds the halves exactly.
func partTokens() Tokens {
	t := Tokens{Grid: 4}
	for p := range 16 {
		v := []float32{1, 0, 0}
		if p%4 >= 2 {
			v = []float32{0, 1, 0}
		}
		t.Patches = append(t.Patches, v)
	}
	return t
}

func halves(left, right colour.Lab) PatchColours {
	cols := make(PatchColours, 16)
	for p := range cols {
		c := left
		if p%4 >= 2 {
			c = right
		}
		cols[p] = []colour.Lab{c, c}
	}
	return cols
}

func TestCFv2(t *testing.T) {
	cfg := charis.DefaultMetricConfig().CF
	cfg.K = 2
	tok := partTokens()
	red, blue := colour.FromSRGB8(214, 48, 49), colour.FromSRGB8(44, 92, 206)
	ref := halves(red, blue)
	if v := CFv2(tok, tok, ref, ref, cfg); math.Abs(v.Score-1) > tol {
		t.Fatalf("identical: CF %v, want 1", v.Score)
	}
	// A missing part is left out: G has only the left half, in the right colour.
	left := tok
	left.Subject = make([]bool, 16)
	for p := range 16 {
		left.Subject[p] = p%4 < 2
	}
	v := CFv2(tok, left, ref, ref, cfg)
	if math.Abs(v.Score-1) > tol || math.Abs(v.Diag["missing_area"].(float64)-0.5) > tol {
		t.Fatalf("one part missing: CF %v (want 1), missing_area %v (want 0.5)", v.Score, v.Diag["missing_area"])
	}
	if vOld := CF(tok, left, ref, ref, cfg); math.Abs(vOld.Score-0.5) > tol {
		t.Fatalf("v1 on a missing part: CF %v, want 0.5 (the missing part scores 0)", vOld.Score)
	}
	// No part present at all: CF does not apply.
	none := tok
	none.Subject = make([]bool, 16)
	if v := CFv2(tok, none, ref, ref, cfg); v.Applies() {
		t.Fatalf("no G subject patch: CF applies (%v)", v.Score)
	}
	// A recoloured part is seen: the right half turns green.
	green := colour.FromSRGB8(56, 166, 72)
	if v := CFv2(tok, tok, ref, halves(red, green), cfg); v.Score > 0.7 {
		t.Fatalf("one of two parts recoloured: CF %v, want well below 1", v.Score)
	}
}

// TestCFv2RemovesCast: a uniform shift of every part (a tint or relight) is removed when
// three or more parts are present; a change of one part of four is not.
func TestCFv2RemovesCast(t *testing.T) {
	cfg := charis.DefaultMetricConfig().CF
	tok := Tokens{Grid: 4}
	parts := []colour.Lab{colour.FromSRGB8(214, 48, 49), colour.FromSRGB8(44, 92, 206), colour.FromSRGB8(236, 204, 40), colour.FromSRGB8(56, 166, 72)}
	ref, tinted, oneOff := make(PatchColours, 16), make(PatchColours, 16), make(PatchColours, 16)
	shift := colour.Lab{L: -12, A: 6, B: 9}
	for p := range 16 {
		k := p / 4
		v := make([]float32, 4)
		v[k] = 1
		tok.Patches = append(tok.Patches, v)
		c := parts[k]
		ref[p] = []colour.Lab{c}
		tinted[p] = []colour.Lab{{L: c.L + shift.L, A: c.A + shift.A, B: c.B + shift.B}}
		oneOff[p] = []colour.Lab{c}
		if k == 0 {
			oneOff[p] = []colour.Lab{{L: c.L, A: c.A - 60, B: c.B + 30}}
		}
	}
	v := CFv2(tok, tok, ref, tinted, cfg)
	if math.Abs(v.Score-1) > 1e-6 {
		t.Fatalf("uniform cast: CF %v, want 1 after removing it", v.Score)
	}
	cast := v.Diag["cast"].(colour.Lab)
	if math.Abs(cast.L-shift.L) > 1e-6 || math.Abs(cast.A-shift.A) > 1e-6 || math.Abs(cast.B-shift.B) > 1e-6 {
		t.Fatalf("cast %+v, want %+v", cast, shift)
	}
	if v := CFv2(tok, tok, ref, oneOff, cfg); v.Score > 0.85 {
		t.Fatalf("one of four parts recoloured: CF %v, want below 0.85 (a part change is not a cast)", v.Score)
	}
}

func TestTDv2(t *testing.T) {
	cal := &charis.Calibration{Lo: 0, Hi: 0.5}
	v := TDv2(0.4, 0.25, 3, cal, 0.5)
	// (0.5·0.4 + 0.5·calibrate(0.25) = 0.5·0.4 + 0.5·0.5) · 0.5 = 0.225
	if math.Abs(v.Score-0.225) > tol || math.Abs(v.Raw-0.45) > tol {
		t.Fatalf("TDv2 = %v (raw %v), want 0.225 (raw 0.45)", v.Score, v.Raw)
	}
	if v := TDv2(0, 0, 3, cal, 1); v.Score != 0 {
		t.Fatalf("a copy of the reference (novelty 0, spread 0): TD %v, want 0", v.Score)
	}
	if v := TDv2(0.9, 0.5, 3, cal, 0); v.Score != 0 {
		t.Fatalf("another identity (IC 0): TD %v, want 0", v.Score)
	}
	if v := TDv2(0.4, 0, 0, cal, 0.5); math.Abs(v.Score-0.2) > tol || v.Diag["flag"] != "single_generation" {
		t.Fatalf("single generation: %+v, want novelty·IC = 0.2, flagged", v)
	}
}

func TestAggregateV2(t *testing.T) {
	cfg := charis.DefaultMetricConfig()
	axes := map[string]charis.AxisValue{}
	for i, a := range charis.Axes {
		axes[a] = charis.AxisValue{Score: float64(i+1) / 10}
	}
	if got := CHARIS(axes, &cfg); math.Abs(got-0.3) > tol {
		t.Fatalf("all axes apply: CHARIS %v, want 0.3", got)
	}
	axes[charis.AxisCF] = charis.NotApplicable(map[string]any{"reason": "licensed"})
	// (0.1 + 0.2 + 0.4 + 0.5) / 4
	if got := CHARIS(axes, &cfg); math.Abs(got-0.3) > tol {
		t.Fatalf("CF absent: CHARIS %v, want the mean of the other four, 0.3", got)
	}
	want := math.Pow(0.1*0.2*0.4*0.5, 0.25)
	if got := CHARISGeo(axes, &cfg); math.Abs(got-want) > tol {
		t.Fatalf("CF absent: charis_geo %v, want %v", got, want)
	}
	axes[charis.AxisIC] = charis.AxisValue{Score: 0}
	want = math.Pow(0.01*0.2*0.4*0.5, 0.25) // floored at geo_floor
	if got := CHARISGeo(axes, &cfg); math.Abs(got-want) > tol {
		t.Fatalf("IC 0: charis_geo %v, want %v (floored, not 0)", got, want)
	}
}

// TestColourLicenseDreamBench: the licensing rule on DreamBench's own prompts.
func TestColourLicenseDreamBench(t *testing.T) {
	f, err := os.Open("../../shared/data/dreambench/prompts_and_classes.txt")
	if err != nil {
		t.Fatalf("DreamBench prompts (../shared beside the checkout): %v", err)
	}
	defer f.Close()
	lic := charis.DefaultCFLicense()
	licensed := map[string]string{ // the prompt template's distinctive words, and the kind that licenses
		"a red {0} {1}": "colour", "a purple {0} {1}": "colour", "in a purple wizard outfit": "attire",
		"in a chef outfit": "attire", "in a firefighter outfit": "attire", "in a police outfit": "attire",
	}
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "'a {0}") && !strings.HasPrefix(line, "'a red") && !strings.HasPrefix(line, "'a purple") &&
			!strings.HasPrefix(line, "'a shiny") && !strings.HasPrefix(line, "'a wet") && !strings.HasPrefix(line, "'a cube") {
			continue
		}
		tmpl := line[1:strings.Index(line, "'.format")]
		prompt := strings.NewReplacer("{0}", "sks", "{1}", "dog").Replace(tmpl)
		seen++
		want := ""
		for k, kind := range licensed {
			if strings.Contains(tmpl, k) || tmpl == k {
				want = kind
			}
		}
		got, ok := ColourLicense(prompt, lic)
		if ok != (want != "") || (ok && got.Kind != want) {
			t.Errorf("%q: licensed %v (%+v), want %q", prompt, ok, got, want)
		}
	}
	if seen != 50 {
		t.Fatalf("read %d prompts, want DreamBench's 50", seen)
	}
}

func TestColourLicenseWorld(t *testing.T) {
	lic := charis.DefaultCFLicense()
	for _, c := range []struct {
		prompt, kind, phrase string
	}{
		{"the character, turned left, in dim light", "lighting", "in dim light"},
		{"the character, as a pencil sketch", "style", "as a pencil sketch"},
		{"the character, as an outline drawing", "style", "as an outline drawing"},
		{"the character, at night", "lighting", "at night"},
		{"the character, on a green background, in flat colours", "", ""},
		{"the character, on a pink background", "", ""},
		{"a sks backpack on top of pink fabric", "", ""},
		{"a sks backpack with a blue house in the background", "", ""},
		{"a Red sks backpack", "colour", "a Red sks backpack"},
		{"a sks dog wearing pink glasses", "", ""},
	} {
		got, ok := ColourLicense(c.prompt, lic)
		if ok != (c.kind != "") || got.Kind != c.kind || got.Phrase != c.phrase {
			t.Errorf("%q: %+v (licensed %v), want kind %q phrase %q", c.prompt, got, ok, c.kind, c.phrase)
		}
	}
}

// TestColourSpread: the 90th percentile (nearest rank) of the a*b* distance from the
// median, on pixels of known colours; lightness does not count.
func TestColourSpread(t *testing.T) {
	gray := func(l float64) colour.Lab { return colour.Lab{L: l} }
	ab := colour.Lab{L: 50, A: 30, B: 40} // 50 from the gray axis
	patches := func(n, coloured int) PatchColours {
		var px []colour.Lab
		for i := range n {
			if i < coloured {
				px = append(px, ab)
			} else {
				px = append(px, gray(float64(i%100)))
			}
		}
		return PatchColours{px[:n/2], px[n/2:]} // the patches do not matter, only the pixels
	}
	for _, c := range []struct {
		n, coloured int
		want        float64
	}{{100, 0, 0}, {100, 10, 0}, {100, 11, 50}, {100, 49, 50}, {100, 100, 0}} {
		if got := ColourSpread(patches(c.n, c.coloured)); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%d of %d pixels at a*b* (30, 40), the rest gray: spread %v, want %v", c.coloured, c.n, got, c.want)
		}
	}
	if got := ColourSpread(nil); got != 0 {
		t.Errorf("no pixels: %v", got)
	}
}
