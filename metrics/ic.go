package metrics

import (
	"math"

	"gonum.org/v1/gonum/blas/gonum"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/colour"
)

// Tokens is one image through the identity encoder.
type Tokens struct {
	CLS     []float32   // nil when the model has no CLS token
	Patches [][]float32 // Grid·Grid patch tokens, row-major
	Grid    int
	Subject []bool // per patch: covered by the subject mask (≥ mask_coverage); nil: no mask, every patch counts
}

// subjectPatches returns the patches that count as subject.
func (t *Tokens) subjectPatches() [][]float32 {
	if t.Subject == nil {
		return t.Patches
	}
	var out [][]float32
	for i, p := range t.Patches {
		if t.Subject[i] {
			out = append(out, p)
		}
	}
	return out
}

// IC is identity consistency (spec axis 1):
//
//	fwd    = mean over R's subject patches of the max cosine to any of G's subject patches
//	bwd    = the same from G to R
//	fine   = harmonic mean(fwd, bwd)        (0 when either is ≤ 0)
//	global = cosine(mean subject patch of R, mean subject patch of G); the CLS cosine
//	         when there is no mask
//	IC_raw = 0.5·fine + 0.5·global,  IC = calibrate(IC_raw)
//
// With no subject patch on a side (an empty mask, a subject too small for any patch),
// global falls back to the CLS cosine and the flag no_subject_patches is set. Version 1
// then sets fine = 0, so IC_raw is half the CLS cosine; version 2 takes IC_raw = global
// (there is nothing to match patch by patch, which is not evidence of another identity).
func IC(r, g Tokens, cal *charis.Calibration, version int) charis.AxisValue {
	rs, gs := r.subjectPatches(), g.subjectPatches()
	diag := map[string]any{"r_patches": len(rs), "g_patches": len(gs)}
	var fine, global float64
	switch {
	case len(rs) == 0 || len(gs) == 0:
		diag["no_subject_patches"] = true
		global = clsCosine(r, g)
	default:
		rn, gn := normalizeAll(rs), normalizeAll(gs)
		fwd, bwd := meanMaxCosines(rn, gn)
		if fwd > 0 && bwd > 0 {
			fine = 2 * fwd * bwd / (fwd + bwd)
		}
		if r.Subject == nil && g.Subject == nil {
			global = clsCosine(r, g)
		} else {
			global = charis.Cosine(mean(rs), mean(gs))
		}
		diag["fwd"], diag["bwd"] = fwd, bwd
	}
	raw := 0.5*fine + 0.5*global
	if version >= charis.MetricV2 && diag["no_subject_patches"] == true {
		raw = global
	}
	diag["fine"], diag["global"] = fine, global
	return charis.AxisValue{Raw: raw, Score: cal.Calibrate(raw), Diag: diag}
}

func clsCosine(r, g Tokens) float64 {
	if r.CLS != nil && g.CLS != nil {
		return charis.Cosine(r.CLS, g.CLS)
	}
	return charis.Cosine(mean(r.Patches), mean(g.Patches))
}

// meanMaxCosines returns, over unit vectors a, the mean of each one's largest dot product
// with any unit b, and the same from b to a: both directions from one pass over the
// pairs (dot is symmetric, bit for bit).
func meanMaxCosines(a, b [][]float32) (fwd, bwd float64) {
	bBest := make([]float64, len(b))
	for j := range bBest {
		bBest[j] = -1
	}
	for _, x := range a {
		best := -1.0
		for j, y := range b {
			d := dot(x, y)
			best = max(best, d)
			bBest[j] = max(bBest[j], d)
		}
		fwd += best
	}
	for _, v := range bBest {
		bwd += v
	}
	return fwd / float64(len(a)), bwd / float64(len(b))
}

// dot is the float64 dot product of two float32 vectors of the same length: BLAS's
// dsdot (float32 products summed in float64), in gonum's assembly, ~2.8x a Go loop with
// four running sums on 384-wide patch tokens. Sums differ from one running sum only in
// the last bits.
func dot(a, b []float32) float64 {
	return blasImpl.Dsdot(len(a), a, 1, b[:len(a)], 1)
}

var blasImpl gonum.Implementation

// normalizeAll returns unit-length copies (a zero vector stays zero).
func normalizeAll(vs [][]float32) [][]float32 {
	out := make([][]float32, len(vs))
	for i, v := range vs {
		out[i] = Normalize(v)
	}
	return out
}

// Normalize returns v scaled to unit length (zero stays zero).
func Normalize(v []float32) []float32 {
	n := dot(v, v)
	out := make([]float32, len(v))
	if n == 0 {
		return out
	}
	inv := 1 / math.Sqrt(n)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

func mean(vs [][]float32) []float32 {
	if len(vs) == 0 {
		return nil
	}
	acc := make([]float64, len(vs[0]))
	for _, v := range vs {
		for i, x := range v {
			acc[i] += float64(x)
		}
	}
	out := make([]float32, len(acc))
	for i, a := range acc {
		out[i] = float32(a / float64(len(vs)))
	}
	return out
}

// ColourSpread is how far apart the colours of a subject are (version 2's rule for IC's
// luma view, ic.luma_below): over the subject's pixels, the 90th percentile (nearest rank)
// of each pixel's distance in CIELAB's a*b* plane from the pixels' per-channel median
// (a*, b*). A gray rendering spreads 0, and one tinted by a light hardly more; a subject of
// several colours spreads as far as its colours are apart, whatever their lightness. 0
// without pixels.
func ColourSpread(cols PatchColours) float64 {
	var px []colour.Lab
	for _, patch := range cols {
		px = append(px, patch...)
	}
	if len(px) == 0 {
		return 0
	}
	m := median(px)
	d := make([]float64, len(px))
	for i, c := range px {
		d[i] = math.Hypot(c.A-m.A, c.B-m.B)
	}
	return selectNth(d, int(math.Ceil(0.9*float64(len(d))))-1)
}
