// Package validate measures whether a CHARIS version ranks what it should
// (charis-v2.md, "Validation"): over a scored run holding a ground-truth variant and
// failure families of known strength, it computes the purity matrix (Spearman ρ between
// strength and each metric, pooled over samples), the separation table (ground truth
// minus each family at its top strength, paired by sample, with a subject-bootstrap
// interval) and monotonicity (whether the family's means fall with strength), and checks
// them against the spec's targets.
//
// Naming convention of the run: the ground truth is variant "ground_truth"; a family's
// variants are "KIND@STRENGTH" and their sample ids "ID@KIND@STRENGTH", ID being the
// ground-truth sample's id (what `charisbench world build` and `charisbench validate`
// write). Other variants are ignored.
package validate

import (
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/charisbench/charisbench/charis"
)

// GroundTruth is the variant every family is compared with.
const GroundTruth = "ground_truth"

// Settings of the separation bootstrap.
const (
	bootstrapDraws = 2000
	confidence     = 0.95
)

// Metrics are the rows of the purity matrix: the aggregates, then the axes.
var Metrics = []string{"charis", "charis_geo", charis.AxisIC, charis.AxisPA, charis.AxisCF, charis.AxisVQ, charis.AxisTD}

// measured are what purity and separation are computed for: Metrics, and the identity
// judge's IC where the run has it (score --judge); the report shows the judge's beside IC.
var measured = append(slices.Clone(Metrics), charis.AxisJudgeIC)

// Targets of charis-v2.md ("What v2 must reach").
const (
	MinSeparation = 0.05 // lower bound of ground truth minus a family at strength 1
	MaxOwnRho     = -0.6 // a family's own axis falls at least this steeply
	MaxRiseRho    = 0.1  // no axis rises with an image degradation beyond this
)

// Targets of axis purity: each axis answers its own question, so a failure family moves its
// own axis and leaves the others (the response matrix: every axis's drop from the ground
// truth at full strength).
const (
	MaxQualityShare = 0.5  // under blur, JPEG and noise, IC's and PA's drops at most this share of VQ's
	MaxOffAxisMove  = 0.05 // a family that leaves an axis's question alone moves it at most this much
	MinCategoryIC   = 0.6  // the ground truth's mean IC in every transformation category its prompts ask for
	LowIC           = 0.2  // a ground-truth IC below this calls a correct transformation another subject
	MaxLowICShare   = 0.05 // at most this share of ground-truth samples below LowIC
)

// QualityFamilies are the image degradations whose drop VQ, and VQ above all, must show.
var QualityFamilies = []string{"blur", "jpeg", "noise"}

// Untouched pairs each family with the axes whose question it does not touch.
var Untouched = []struct {
	Family string
	Axes   []string
}{
	{"identity_swap", []string{charis.AxisPA, charis.AxisVQ}}, {"recolour", []string{charis.AxisPA, charis.AxisVQ}},
	{"prompt_mismatch", []string{charis.AxisIC, charis.AxisCF, charis.AxisVQ}},
}

// OwnAxes pairs each family with the axis it exists to move.
var OwnAxes = []struct{ Family, Axis string }{
	{"identity_swap", charis.AxisIC}, {"prompt_mismatch", charis.AxisPA}, {"blur", charis.AxisVQ},
	{"noise", charis.AxisVQ}, {"blank", charis.AxisVQ}, {"copy_paste", charis.AxisTD},
}

// Degradations are the families under which no axis may rise.
var Degradations = []string{"blur", "noise", "jpeg", "blank"}

// Report is a validation: what validation.json holds.
type Report struct {
	Run        string                        `json:"run"`
	Version    int                           `json:"metric_version"`
	Families   []string                      `json:"families"`
	Purity     map[string]map[string]float64 `json:"purity"`     // family -> metric -> ρ (absent: not measured)
	Separation map[string]Separation         `json:"separation"` // family -> ground truth minus the family's top strength
	Monotone   map[string]Monotonicity       `json:"monotonicity"`
	Checks     []Check                       `json:"checks"`
	Pass       bool                          `json:"pass"`
	// MaskSources counts the scored samples by where their subject masks came from
	// (given, segmenter, none: the whole image).
	MaskSources map[string]int `json:"mask_sources,omitempty"`
	// GivenMasks is the same benchmark scored with the masks it gives, beside the
	// mask-free path this report's verdict is about (Run); nil when none were given.
	GivenMasks *Report `json:"given_masks,omitempty"`
	// CategoryIC is the ground truth's IC per transformation the prompts ask for, where
	// the benchmark says which (a charis-world build): "pose", "style: sketch", ...
	CategoryIC []CategoryIC `json:"ground_truth_ic_by_category,omitempty"`
	LowICShare *float64     `json:"ground_truth_low_ic_share,omitempty"` // share of ground-truth samples with IC below LowIC
}

// CategoryIC is the ground truth's IC over the samples whose prompt asks for one kind of
// transformation.
type CategoryIC struct {
	Category string  `json:"category"`
	N        int     `json:"n"`
	Mean     float64 `json:"mean"`
	Low      float64 `json:"share_below"` // share of the category's samples with IC below LowIC
}

// Separation is ground truth minus a family at its top strength, per metric, over the
// sample pairs scored in both.
type Separation struct {
	Strength float64                `json:"strength"`
	Pairs    int                    `json:"pairs"`
	Subjects int                    `json:"subjects"`
	Metrics  map[string]charis.Stat `json:"metrics"` // mean difference with its 95% subject-bootstrap interval
}

// Monotonicity lists a family's CHARIS means by strength (0 = ground truth).
type Monotonicity struct {
	Strengths []float64 `json:"strengths"`
	Means     []float64 `json:"means"`
	Falls     bool      `json:"falls"` // each mean below the one before
}

// Check is one target of the spec.
type Check struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target"`
	Pass   bool    `json:"pass"`
}

type point struct {
	base     string // the ground-truth sample's id
	subject  string
	strength float64
	sample   *charis.SampleResult
}

// Validate computes the report of a scored run.
func Validate(run *charis.Run) (*Report, error) { return validate(run, nil) }

// validate computes the report; categories (ground-truth sample id -> the transformation
// categories its prompt asks for) add the ground truth's IC per category and its checks.
func validate(run *charis.Run, categories map[string][]string) (*Report, error) {
	gt := map[string]*charis.SampleResult{}
	families := map[string][]point{}
	masks := map[string]int{}
	for i := range run.Samples {
		s := &run.Samples[i]
		if s.Status != charis.StatusOK {
			continue
		}
		if s.MaskSource != "" {
			masks[s.MaskSource]++
		}
		if s.Variant == GroundTruth {
			gt[s.ID] = s
			continue
		}
		kind, strength, ok := parseVariant(s.Variant)
		if !ok {
			continue
		}
		base, _, _ := strings.Cut(s.ID, "@")
		families[kind] = append(families[kind], point{base: base, subject: s.Subject, strength: strength, sample: s})
	}
	if len(gt) == 0 {
		return nil, fmt.Errorf("%s: no scored %s sample: validation compares every family with the ground truth", run.Dir, GroundTruth)
	}
	if len(families) == 0 {
		return nil, fmt.Errorf("%s: no family variants (KIND@STRENGTH, such as blur@0.5) to validate", run.Dir)
	}
	rep := &Report{Run: run.Dir, Version: run.Summary.Provenance.MetricConfig.Version, Purity: map[string]map[string]float64{},
		Separation: map[string]Separation{}, Monotone: map[string]Monotonicity{}, MaskSources: masks}
	rep.Families = slices.Sorted(maps.Keys(families))
	for _, fam := range rep.Families {
		pts := families[fam]
		// Ground-truth points of the samples this family perturbs, at strength 0.
		var all []point
		seen := map[string]bool{}
		for _, p := range pts {
			if g := gt[p.base]; g != nil && !seen[p.base] {
				seen[p.base] = true
				all = append(all, point{base: p.base, subject: g.Subject, sample: g})
			}
		}
		all = append(all, pts...)
		rep.Purity[fam] = map[string]float64{}
		for _, m := range measured {
			if rho, ok := spearman(all, m); ok {
				rep.Purity[fam][m] = rho
			}
		}
		rep.Separation[fam] = separation(fam, pts, gt)
		rep.Monotone[fam] = monotonicity(all)
	}
	if len(categories) > 0 {
		rep.categoryIC(gt, categories)
	}
	rep.check()
	return rep, nil
}

// categoryIC is the ground truth's IC per transformation category (a sample counts in
// each category its prompt asks for), and the share of samples with a low IC.
func (r *Report) categoryIC(gt map[string]*charis.SampleResult, categories map[string][]string) {
	type acc struct{ sum, low, n float64 }
	by := map[string]*acc{}
	low, n := 0, 0
	for id, s := range gt {
		ic, ok := s.Value(charis.AxisIC)
		if !ok {
			continue
		}
		n++
		if ic < LowIC {
			low++
		}
		for _, c := range categories[id] {
			a := by[c]
			if a == nil {
				a = &acc{}
				by[c] = a
			}
			a.sum, a.n = a.sum+ic, a.n+1
			if ic < LowIC {
				a.low++
			}
		}
	}
	for _, c := range slices.Sorted(maps.Keys(by)) {
		a := by[c]
		r.CategoryIC = append(r.CategoryIC, CategoryIC{Category: c, N: int(a.n), Mean: a.sum / a.n, Low: a.low / a.n})
	}
	if n > 0 {
		share := float64(low) / float64(n)
		r.LowICShare = &share
	}
}

// parseVariant reads "KIND@STRENGTH".
func parseVariant(v string) (string, float64, bool) {
	kind, s, ok := strings.Cut(v, "@")
	if !ok {
		return "", 0, false
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x < 0 || x > 1 {
		return "", 0, false
	}
	return kind, x, true
}

// spearman is Spearman's ρ between strength and a metric over the points that have it:
// the Pearson correlation of their ranks, ties given their mean rank.
func spearman(pts []point, metric string) (float64, bool) {
	var xs, ys []float64
	for _, p := range pts {
		if v, ok := p.sample.Value(metric); ok {
			xs, ys = append(xs, p.strength), append(ys, v)
		}
	}
	if len(xs) < 3 {
		return 0, false
	}
	rho := stat.Correlation(ranks(xs), ranks(ys), nil)
	if math.IsNaN(rho) { // a constant metric or a single strength: no ordering to measure
		return 0, false
	}
	return rho, true
}

// ranks gives each value its 1-based rank, tied values the mean of their ranks.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}

// separation is ground truth minus the family at its top strength, paired by sample, with
// an interval from draws that resample subjects.
func separation(fam string, pts []point, gt map[string]*charis.SampleResult) Separation {
	top := 0.0
	for _, p := range pts {
		top = max(top, p.strength)
	}
	sep := Separation{Strength: top, Metrics: map[string]charis.Stat{}}
	type acc struct {
		sum []float64
		n   []int
	}
	bySubject := map[string]*acc{}
	for _, p := range pts {
		g := gt[p.base]
		if p.strength != top || g == nil {
			continue
		}
		sep.Pairs++
		a := bySubject[p.subject]
		if a == nil {
			a = &acc{sum: make([]float64, len(measured)), n: make([]int, len(measured))}
			bySubject[p.subject] = a
		}
		for m, name := range measured {
			x, ok1 := g.Value(name)
			y, ok2 := p.sample.Value(name)
			if ok1 && ok2 {
				a.sum[m] += x - y
				a.n[m]++
			}
		}
	}
	subjects := slices.Sorted(maps.Keys(bySubject))
	sep.Subjects = len(subjects)
	if len(subjects) == 0 {
		return sep
	}
	h := fnv.New64a()
	h.Write([]byte(fam))
	r := rand.New(rand.NewPCG(1, h.Sum64()))
	draws := make([][]float64, len(measured))
	for range bootstrapDraws {
		sums, ns := make([]float64, len(measured)), make([]int, len(measured))
		for range subjects {
			a := bySubject[subjects[r.IntN(len(subjects))]]
			for m := range measured {
				sums[m] += a.sum[m]
				ns[m] += a.n[m]
			}
		}
		for m := range measured {
			if ns[m] > 0 {
				draws[m] = append(draws[m], sums[m]/float64(ns[m]))
			}
		}
	}
	for m, name := range measured {
		s, n := 0.0, 0
		for _, a := range bySubject {
			s, n = s+a.sum[m], n+a.n[m]
		}
		d := draws[m]
		if n == 0 || len(d) == 0 {
			continue
		}
		sep.Metrics[name] = charis.Stat{Mean: s / float64(n), CI: charis.PercentileCI(d, confidence)}
	}
	return sep
}

// monotonicity lists the CHARIS means by strength.
func monotonicity(all []point) Monotonicity {
	sum, n := map[float64]float64{}, map[float64]int{}
	for _, p := range all {
		sum[p.strength] += *p.sample.CHARIS
		n[p.strength]++
	}
	m := Monotonicity{Strengths: slices.Sorted(maps.Keys(sum)), Falls: true}
	for i, s := range m.Strengths {
		m.Means = append(m.Means, sum[s]/float64(n[s]))
		if i > 0 && !(m.Means[i] < m.Means[i-1]) {
			m.Falls = false
		}
	}
	return m
}

// check evaluates the spec's targets on the families present.
func (r *Report) check() {
	add := func(name string, v float64, target string, pass bool) {
		r.Checks = append(r.Checks, Check{Name: name, Value: v, Target: target, Pass: pass})
	}
	for _, fam := range r.Families {
		if s, ok := r.Separation[fam].Metrics["charis"]; ok {
			add(fmt.Sprintf("separation %s@%g: lower bound", fam, r.Separation[fam].Strength), s.CI[0],
				fmt.Sprintf(">= %.2f", MinSeparation), s.CI[0] >= MinSeparation)
		}
		m := r.Monotone[fam]
		add(fmt.Sprintf("monotone %s: CHARIS falls with strength", fam), boolValue(m.Falls), "falls", m.Falls)
	}
	for _, o := range OwnAxes {
		if rho, ok := r.Purity[o.Family][o.Axis]; ok {
			add(fmt.Sprintf("own axis %s / %s: rho", o.Axis, o.Family), rho, fmt.Sprintf("<= %.1f", MaxOwnRho), rho <= MaxOwnRho)
		}
	}
	for _, fam := range Degradations {
		p, ok := r.Purity[fam]
		if !ok {
			continue
		}
		for _, a := range charis.Axes {
			if rho, ok := p[a]; ok {
				add(fmt.Sprintf("no rise %s / %s: rho", a, fam), rho, fmt.Sprintf("<= +%.1f", MaxRiseRho), rho <= MaxRiseRho)
			}
		}
	}
	r.checkPurity(add)
	r.Pass = len(r.Checks) > 0
	for _, c := range r.Checks {
		r.Pass = r.Pass && c.Pass
	}
}

// checkPurity checks the response matrix at full strength (each quality family moves VQ
// most, and IC and PA by at most half of it; swaps, recolours and prompt mismatches leave
// the axes they do not ask about) and the ground truth's IC per transformation category.
func (r *Report) checkPurity(add func(string, float64, string, bool)) {
	drop := func(fam, axis string) (float64, bool) {
		sep, ok := r.Separation[fam]
		if !ok || sep.Strength != 1 {
			return 0, false
		}
		st, ok := sep.Metrics[axis]
		return st.Mean, ok
	}
	for _, fam := range QualityFamilies {
		vq, ok := drop(fam, charis.AxisVQ)
		if !ok {
			continue
		}
		others := math.Inf(-1)
		for _, a := range charis.Axes {
			if d, ok := drop(fam, a); ok && a != charis.AxisVQ {
				others = max(others, d)
			}
		}
		if !math.IsInf(others, 0) {
			add(fmt.Sprintf("response %s@1: VQ's drop minus the largest other axis's", fam), vq-others, "> 0", vq > others)
		}
		for _, a := range []string{charis.AxisIC, charis.AxisPA} {
			if d, ok := drop(fam, a); ok { // a difference, not a ratio: VQ's drop may be 0
				excess := d - MaxQualityShare*vq
				add(fmt.Sprintf("response %s@1: %s's drop minus %.1f of VQ's", fam, metricName(a), MaxQualityShare), excess, "<= 0", excess <= 0)
			}
		}
	}
	for _, u := range Untouched {
		for _, a := range u.Axes {
			if d, ok := drop(u.Family, a); ok {
				add(fmt.Sprintf("response %s@1: |%s's move|", u.Family, metricName(a)), math.Abs(d),
					fmt.Sprintf("<= %.2f", MaxOffAxisMove), math.Abs(d) <= MaxOffAxisMove)
			}
		}
	}
	for _, c := range r.CategoryIC {
		add(fmt.Sprintf("ground-truth IC, %s: mean", c.Category), c.Mean, fmt.Sprintf(">= %.1f", MinCategoryIC), c.Mean >= MinCategoryIC)
	}
	if r.LowICShare != nil {
		add(fmt.Sprintf("ground-truth IC below %.1f: share of samples", LowIC), *r.LowICShare,
			fmt.Sprintf("<= %.2f", MaxLowICShare), *r.LowICShare <= MaxLowICShare)
	}
}

// metricName is an axis's short name in check names: "IC".
func metricName(axis string) string { return strings.ToUpper(axis) }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Failed lists the checks that did not pass.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.Pass {
			out = append(out, c)
		}
	}
	return out
}
