package metrics

import (
	"math"
	"slices"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/colour"
	"github.com/charisbench/charisbench/metrics/kmeans"
)

// PatchColours holds, per patch of the identity encoder's grid, the CIELAB values of the
// subject pixels under it (in the encoder's preprocessed image).
type PatchColours [][]colour.Lab

// CF is region-wise colour fidelity (spec axis 3, version 1). R's subject patch tokens are
// clustered into K parts (k-means++, seeded); each G subject patch joins the part of its
// nearest R patch (cosine). Per part k, the medians of L, a and b over the part's subject
// pixels are taken in R and in G, d_k = CIEDE2000(kL, 1, 1) between them and
// CF_k = exp(−d_k / τ). CF = Σ_k area_k(R)·CF_k, area_k(R) being the part's share of R's
// subject pixels; a part no G patch joins scores 0. CF is its own score.
func CF(r, g Tokens, rCol, gCol PatchColours, cfg charis.CFConfig) charis.AxisValue {
	rPix, gPix, ok := parts(r, g, rCol, gCol, cfg)
	if !ok {
		return charis.AxisValue{Diag: map[string]any{"no_subject_patches": true}}
	}
	total := 0
	for _, px := range rPix {
		total += len(px)
	}
	w := colour.Weights{KL: cfg.KL, KC: 1, KH: 1}
	score := 0.0
	diags := make([]map[string]any, 0, len(rPix))
	for part := range rPix {
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
		diags = append(diags, d)
	}
	return charis.AxisValue{Raw: score, Score: score, Diag: map[string]any{"parts": diags}}
}

// minCastParts is the fewest present parts from which CF v2 estimates a colour cast: with
// one or two, a per-channel median over parts is (the mean of) the parts' own differences,
// and removing it would erase the very colour change CF measures.
const minCastParts = 3

// CFv2 is region-wise colour fidelity as CHARIS v2 defines it (charis-v2.md, change 3),
// for a sample whose prompt does not license a colour change (ColourLicense):
//
//	parts    as version 1: R's subject patches clustered into K parts, G's patches joined
//	present  the parts that some G subject patch joined; the others' share of R's subject
//	         area is reported as missing_area and left out (IC pays for missing parts)
//	cast     per channel, the median over present parts of Lab_k(G) − Lab_k(R), subtracted
//	         from every Lab_k(G) (a relit or tinted image keeps its parts' relative
//	         colours); not estimated from fewer than minCastParts parts
//	CF       Σ_present area_k·exp(−ΔE00(Lab_k(R), Lab_k(G) − cast; kL) / τ) / Σ_present area_k
//
// Without a subject patch in R, or with no part present in G, CF does not apply.
func CFv2(r, g Tokens, rCol, gCol PatchColours, cfg charis.CFConfig) charis.AxisValue {
	rPix, gPix, ok := parts(r, g, rCol, gCol, cfg)
	if !ok {
		return charis.NotApplicable(map[string]any{"reason": "no_subject_patches"})
	}
	type part struct {
		area   float64
		lr, lg colour.Lab
		diag   map[string]any
	}
	total := 0
	for _, px := range rPix {
		total += len(px)
	}
	var present []part
	diags := make([]map[string]any, 0, len(rPix))
	missing := 0.0
	for k := range rPix {
		if len(rPix[k]) == 0 {
			continue
		}
		area := float64(len(rPix[k])) / float64(total)
		d := map[string]any{"area": area, "lab_r": median(rPix[k])}
		diags = append(diags, d)
		if len(gPix[k]) == 0 {
			d["missing_in_g"] = true
			missing += area
			continue
		}
		d["lab_g"] = median(gPix[k])
		present = append(present, part{area: area, lr: median(rPix[k]), lg: median(gPix[k]), diag: d})
	}
	diag := map[string]any{"parts": diags, "missing_area": missing}
	if len(present) == 0 {
		diag["reason"] = "no_part_in_g"
		return charis.NotApplicable(diag)
	}
	var cast colour.Lab
	if len(present) >= minCastParts {
		dl, da, db := make([]float64, len(present)), make([]float64, len(present)), make([]float64, len(present))
		for i, p := range present {
			dl[i], da[i], db[i] = p.lg.L-p.lr.L, p.lg.A-p.lr.A, p.lg.B-p.lr.B
		}
		cast = colour.Lab{L: medianOf(dl), A: medianOf(da), B: medianOf(db)}
	}
	diag["cast"] = cast
	w := colour.Weights{KL: cfg.KL, KC: 1, KH: 1}
	num, den := 0.0, 0.0
	for _, p := range present {
		lg := colour.Lab{L: p.lg.L - cast.L, A: p.lg.A - cast.A, B: p.lg.B - cast.B}
		dk := colour.DeltaE2000(p.lr, lg, w)
		cfk := math.Exp(-dk / cfg.Tau)
		p.diag["delta_e"], p.diag["cf"] = dk, cfk
		num += p.area * cfk
		den += p.area
	}
	score := num / den
	return charis.AxisValue{Raw: score, Score: score, Diag: diag}
}

// parts clusters R's subject patches into parts and gathers, per part, the subject pixels
// of R and of the G patches that join it. ok is false when R or G has no subject patch.
func parts(r, g Tokens, rCol, gCol PatchColours, cfg charis.CFConfig) (rPix, gPix [][]colour.Lab, ok bool) {
	rIdx, gIdx := subjectIndices(r), subjectIndices(g)
	if len(rIdx) == 0 || len(gIdx) == 0 {
		return nil, nil, false
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
	rPix, gPix = make([][]colour.Lab, k), make([][]colour.Lab, k)
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
	return rPix, gPix, true
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
		return medianOf(v)
	}
	return colour.Lab{L: ch(func(c colour.Lab) float64 { return c.L }),
		A: ch(func(c colour.Lab) float64 { return c.A }), B: ch(func(c colour.Lab) float64 { return c.B })}
}

// medianOf returns v's median (the mean of the middle two for an even count), reordering
// v: a selection, not a sort, since only the middle is needed.
func medianOf(v []float64) float64 {
	n := len(v)
	hi := selectNth(v, n/2)
	if n%2 == 1 {
		return hi
	}
	return (slices.Max(v[:n/2]) + hi) / 2 // after selectNth, v[:n/2] holds the smaller half
}

// selectNth reorders v so that v[k] is the value a sort would put there, every value
// before it ≤ and every value after it ≥ (Hoare's quickselect, middle pivot).
func selectNth(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		pivot := v[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}
