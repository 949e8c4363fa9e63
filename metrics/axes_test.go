package metrics

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/colour"
)

const tol = 1e-9

func randTokens(r *rand.Rand, grid, dim int) Tokens {
	t := Tokens{Grid: grid, CLS: make([]float32, dim)}
	for i := range t.CLS {
		t.CLS[i] = float32(r.NormFloat64())
	}
	for range grid * grid {
		p := make([]float32, dim)
		for i := range p {
			p[i] = float32(r.NormFloat64())
		}
		t.Patches = append(t.Patches, p)
	}
	return t
}

func TestICIdenticalAndUnrelated(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	a := randTokens(r, 4, 16)
	same := IC(a, a, nil, charis.MetricV1)
	if math.Abs(same.Raw-1) > 1e-6 || math.Abs(same.Score-1) > 1e-6 {
		t.Fatalf("identical tokens: IC %+v, want 1", same)
	}
	b := randTokens(r, 4, 16)
	if other := IC(a, b, nil, charis.MetricV1); other.Raw > 0.6 {
		t.Fatalf("unrelated random tokens: IC raw %v, want well below 1", other.Raw)
	}
	masked := a
	masked.Subject = make([]bool, 16) // empty mask
	if v := IC(masked, a, nil, charis.MetricV1); v.Diag["no_subject_patches"] != true {
		t.Fatalf("empty mask not flagged: %+v", v.Diag)
	}
}

func TestPromptHelpers(t *testing.T) {
	if got := StripIdentifiers("a photo of a SKS dog, sks", []string{"sks"}); got != "a photo of a dog," {
		t.Fatalf("StripIdentifiers: %q", got)
	}
	got := Clauses("the character, turned left; in dim light and on a green background")
	want := []string{"the character", "turned left", "in dim light", "on a green background"}
	if !slices.Equal(got, want) {
		t.Fatalf("Clauses: %q, want %q", got, want)
	}
}

func TestCFIdenticalAndRecoloured(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	tok := randTokens(r, 4, 8)
	cols := make(PatchColours, 16)
	for p := range cols {
		for range 4 {
			cols[p] = append(cols[p], colour.FromSRGB8(uint8(10*p), 100, 200))
		}
	}
	cfg := charis.DefaultMetricConfig().CF
	if v := CF(tok, tok, cols, cols, cfg); math.Abs(v.Score-1) > tol {
		t.Fatalf("identical: CF %v, want 1", v.Score)
	}
	shifted := make(PatchColours, 16)
	for p := range shifted {
		for range 4 {
			shifted[p] = append(shifted[p], colour.FromSRGB8(200, uint8(10*p), 40))
		}
	}
	if v := CF(tok, tok, cols, shifted, cfg); v.Score > 0.2 {
		t.Fatalf("every colour changed: CF %v, want near 0", v.Score)
	}
}

func TestSpreadMatchesPairwise(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	var us [][]float32
	sum := make([]float64, 5)
	for range 6 {
		v := make([]float32, 5)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		u := Normalize(v)
		us = append(us, u)
		for i, x := range u {
			sum[i] += float64(x)
		}
	}
	for i, u := range us {
		brute := 0.0
		for j, w := range us {
			if j != i {
				brute += 1 - charis.Cosine(u, w)
			}
		}
		brute /= float64(len(us) - 1)
		if got := Spread(u, sum, len(us)); math.Abs(got-brute) > 1e-6 {
			t.Fatalf("spread %v, pairwise %v", got, brute)
		}
	}
}

func TestNoveltyAndTD(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 40, 40))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	gray, err := GrayResized(img, 128)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Novelty(gray, gray)
	if err != nil || math.Abs(n) > tol {
		t.Fatalf("copy of the reference: novelty %v (err %v), want 0", n, err)
	}
	if v := TD(0.4, 0, 0, nil); v.Score != 0.4 || v.Diag["flag"] != "single_generation" {
		t.Fatalf("single generation: %+v", v)
	}
	if v := TD(0.4, 0.6, 3, nil); math.Abs(v.Score-0.5) > tol {
		t.Fatalf("TD(0.4, 0.6) = %v, want 0.5", v.Score)
	}
}

func TestVQGuard(t *testing.T) {
	cfg := charis.DefaultMetricConfig().VQ
	img := []float32{1, 0}
	good := []Antonym{{Positive: []float32{1, 0}, Negative: []float32{0, 1}}}
	v := VQ(img, good, 100, nil, Luma{Std: 0.2}, cfg)
	if v.Score < 0.99 {
		t.Fatalf("image on the positive prompt: VQ %v", v.Score)
	}
	if v := VQ(img, good, 100, nil, Luma{Std: 0.001}, cfg); v.Score != 0 || v.Diag["flag"] != "near_constant" {
		t.Fatalf("constant image not guarded: %+v", v)
	}
	flat := image.NewRGBA(image.Rect(0, 0, 4, 4))
	if l := LumaOf(flat); l.Std != 0 || l.ClippedShare != 1 {
		t.Fatalf("black image luma %+v", l)
	}
}

// TestLumaOf: the integer sums give the float64 definition's standard deviation, and the
// clipping bounds are inclusive (gray 1 and gray 254 are clipped, 2 and 253 are not).
func TestLumaOf(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	img := image.NewRGBA(image.Rect(3, 2, 3+97, 2+61)) // an origin off zero
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	for i, g := range []uint8{1, 254, 2, 253} {
		copy(img.Pix[4*i:], []uint8{g, g, g, 255})
	}
	var ls []float64
	clipped := 0
	for i := 0; i < len(img.Pix); i += 4 {
		p := img.Pix[i:]
		l := (0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])) / 255
		ls = append(ls, l)
		if l*255 <= 1+1e-9 || l*255 >= 254-1e-9 { // the bounds, with float64's rounding allowed for
			clipped++
		}
	}
	mean := 0.0
	for _, l := range ls {
		mean += l
	}
	mean /= float64(len(ls))
	v := 0.0
	for _, l := range ls {
		v += (l - mean) * (l - mean)
	}
	want := math.Sqrt(v / float64(len(ls)))
	got := LumaOf(img)
	if math.Abs(got.Std-want) > 1e-12 {
		t.Errorf("std %v, want %v", got.Std, want)
	}
	if clipped < 2 || got.ClippedShare != float64(clipped)/float64(len(ls)) {
		t.Errorf("clipped share %v, want %d of %d", got.ClippedShare, clipped, len(ls))
	}
}

func TestCHARISAggregate(t *testing.T) {
	cfg := charis.DefaultMetricConfig()
	axes := map[string]charis.AxisValue{}
	for i, a := range charis.Axes {
		axes[a] = charis.AxisValue{Score: float64(i+1) / 10}
	}
	if got := CHARIS(axes, &cfg); math.Abs(got-0.3) > tol {
		t.Fatalf("arithmetic CHARIS %v, want 0.3", got)
	}
	cfg.Aggregate = "geometric"
	want := math.Pow(0.1*0.2*0.3*0.4*0.5, 0.2)
	if got := CHARIS(axes, &cfg); math.Abs(got-want) > tol {
		t.Fatalf("geometric CHARIS %v, want %v", got, want)
	}
}

// TestMedianOfMatchesSort: the selection gives a sort's median on odd and even counts,
// with ties and constant runs.
func TestMedianOfMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 300; n += 7 {
		for _, levels := range []int{3, 1000} {
			v := make([]float64, n)
			for i := range v {
				v[i] = float64(r.IntN(levels)) - 0.5*float64(levels)
			}
			s := slices.Sorted(slices.Values(v))
			want := s[n/2]
			if n%2 == 0 {
				want = (s[n/2-1] + s[n/2]) / 2
			}
			if got := medianOf(v); got != want {
				t.Fatalf("n=%d levels=%d: median %v, want %v", n, levels, got, want)
			}
		}
	}
}
