package metrics

import (
	"math"
	"sort"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/colour"
	"github.com/charisbench/charisbench/metrics/kmeans"
)

// PatchColours holds, per patch of the identity encoder's grid, the CIELAB values of the
// subject pixels under it (in the encoder's preprocessed image).
type PatchColours [][]colour.Lab

// CF is region-wise colour fidelity (spec axis 3). R's subject patch tokens are clustered
// into K parts (k-means++, seeded); each G subject patch joins the part of its nearest R
// patch (cosine). Per part k, the medians of L, a and b over the part's subject pixels are
// taken in R and in G, d_k = CIEDE2000(kL, 1, 1) between them and CF_k = exp(−d_k / τ).
// CF = Σ_k area_k(R)·CF_k, area_k(R) being the part's share of R's subject pixels; a part
// no G patch joins scores 0. CF is its own score (already in [0, 1]).
func CF(r, g Tokens, rCol, gCol PatchColours, cfg charis.CFConfig) charis.AxisValue {
	rIdx, gIdx := subjectIndices(r), subjectIndices(g)
	if len(rIdx) == 0 || len(gIdx) == 0 {
		return charis.AxisValue{Diag: map[string]any{"no_subject_patches": true}}
	}
	rTok := make([][]float32, len(rIdx))
	for i, p := range rIdx {
		rTok[i] = Normalize(r.Patches[p])
	}
	assign, _ := kmeans.Cluster(rTok, cfg.K, cfg.Seed)
	k := 0
	for _, a := range assign {
		k = max(k, a+1)
	}
	rPix, gPix := make([][]colour.Lab, k), make([][]colour.Lab, k)
	for i, p := range rIdx {
		rPix[assign[i]] = append(rPix[assign[i]], rCol[p]...)
	}
	for _, p := range gIdx {
		gv := Normalize(g.Patches[p])
		best, bestSim := 0, math.Inf(-1)
		for i, rv := range rTok {
			if s := dot(gv, rv); s > bestSim {
				best, bestSim = i, s
			}
		}
		part := assign[best]
		gPix[part] = append(gPix[part], gCol[p]...)
	}
	total := 0
	for _, px := range rPix {
		total += len(px)
	}
	w := colour.Weights{KL: cfg.KL, KC: 1, KH: 1}
	score := 0.0
	parts := make([]map[string]any, 0, k)
	for part := range k {
		if len(rPix[part]) == 0 {
			continue // a cluster of patches without subject pixels carries no area
		}
		area := float64(len(rPix[part])) / float64(total)
		d := map[string]any{"area": area, "lab_r": median(rPix[part])}
		cfk := 0.0
		if len(gPix[part]) > 0 {
			lr, lg := median(rPix[part]), median(gPix[part])
			dk := colour.DeltaE2000(lr, lg, w)
			cfk = math.Exp(-dk / cfg.Tau)
			d["lab_g"], d["delta_e"] = lg, dk
		} else {
			d["missing_in_g"] = true
		}
		d["cf"] = cfk
		score += area * cfk
		parts = append(parts, d)
	}
	return charis.AxisValue{Raw: score, Score: score, Diag: map[string]any{"parts": parts}}
}

func subjectIndices(t Tokens) []int {
	var idx []int
	for i := range t.Patches {
		if t.Subject == nil || t.Subject[i] {
			idx = append(idx, i)
		}
	}
	return idx
}

// median is the per-channel median of CIELAB values (the mean of the middle two for an
// even count).
func median(px []colour.Lab) colour.Lab {
	ch := func(get func(colour.Lab) float64) float64 {
		v := make([]float64, len(px))
		for i, p := range px {
			v[i] = get(p)
		}
		sort.Float64s(v)
		n := len(v)
		if n%2 == 1 {
			return v[n/2]
		}
		return (v[n/2-1] + v[n/2]) / 2
	}
	return colour.Lab{L: ch(func(c colour.Lab) float64 { return c.L }),
		A: ch(func(c colour.Lab) float64 { return c.A }), B: ch(func(c colour.Lab) float64 { return c.B })}
}
