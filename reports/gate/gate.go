// Package gate decides whether a candidate scored run regressed against a baseline: it
// pairs samples by id, bootstraps the paired difference over subjects, and fails when the
// drop exceeds a tolerance with the requested confidence. It fails closed: runs of other
// encoders or metric configs, sample sets that differ beyond a tolerance, or runs with no
// paired scored sample are invalid input, not a pass.
package gate

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/charisbench/charisbench/charis"
)

// Options configure a comparison.
type Options struct {
	Metrics     []string // gated metrics: "charis", axis names, "dino", "clip_i", "clip_t"
	MaxDrop     float64  // tolerated drop (baseline − candidate), in metric units
	Alpha       float64  // 1 − confidence: fail only when drop > MaxDrop with confidence 1 − Alpha
	MaxUnpaired float64  // tolerated share of samples present in one run only
	Draws       int      // bootstrap draws
	Seed        uint64
}

// DefaultOptions: CHARIS, a drop of 0.01 at 95% confidence, identical sample sets.
var DefaultOptions = Options{Metrics: []string{"charis"}, MaxDrop: 0.01, Alpha: 0.05, Draws: 2000, Seed: 1}

// ErrInvalid marks input the gate refuses to judge (exit 2).
var ErrInvalid = errors.New("invalid gate input")

// MetricResult is the verdict on one metric.
type MetricResult struct {
	Metric     string     `json:"metric"`
	Baseline   float64    `json:"baseline"`  // mean over paired samples
	Candidate  float64    `json:"candidate"` // mean over paired samples
	Drop       float64    `json:"drop"`      // baseline − candidate
	DropCI     [2]float64 `json:"drop_ci"`   // one-sided bound at 1 − alpha is DropCI[0]
	Regression bool       `json:"regression"`
}

// Result is the gate's verdict.
type Result struct {
	Paired      int            `json:"paired"`   // samples scored in both runs
	Subjects    int            `json:"subjects"` // subjects they come from
	Unpaired    int            `json:"unpaired"` // samples present in one run only
	NewFailures []string       `json:"new_failures,omitempty"`
	Metrics     []MetricResult `json:"metrics"`
	Pass        bool           `json:"pass"`
	Options     Options        `json:"options"`
}

// Compare judges candidate against baseline.
func Compare(base, cand *charis.Run, opt Options) (*Result, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if err := sameSetup(base, cand); err != nil {
		return nil, err
	}
	bs, cs := byID(base.Samples), byID(cand.Samples)
	res := &Result{Options: opt}
	type pair struct{ b, c *charis.SampleResult }
	pairs := map[string][]pair{} // by subject
	for id, b := range bs {
		c, ok := cs[id]
		if !ok {
			res.Unpaired++
			continue
		}
		switch {
		case b.Status == charis.StatusOK && c.Status == charis.StatusOK:
			pairs[b.Subject] = append(pairs[b.Subject], pair{b, c})
			res.Paired++
		case b.Status == charis.StatusOK:
			res.NewFailures = append(res.NewFailures, id)
		}
	}
	for id := range cs {
		if _, ok := bs[id]; !ok {
			res.Unpaired++
		}
	}
	sort.Strings(res.NewFailures)
	total := len(bs) + len(cs) - (len(bs)+len(cs)-res.Unpaired)/2
	if share := float64(res.Unpaired) / float64(max(total, 1)); share > opt.MaxUnpaired {
		return nil, fmt.Errorf("%w: %d of %d samples are in one run only (%.1f%% > --max-unpaired %.1f%%): the runs score different manifests",
			ErrInvalid, res.Unpaired, total, 100*share, 100*opt.MaxUnpaired)
	}
	if res.Paired == 0 {
		return nil, fmt.Errorf("%w: no sample is scored in both runs", ErrInvalid)
	}
	subjects := make([]string, 0, len(pairs))
	for s := range pairs {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	res.Subjects = len(subjects)
	res.Pass = len(res.NewFailures) == 0
	for _, m := range opt.Metrics {
		// Per subject: sums of baseline, candidate and count.
		sb, scand := make([]float64, len(subjects)), make([]float64, len(subjects))
		n := make([]int, len(subjects))
		for i, s := range subjects {
			for _, p := range pairs[s] {
				bv, okb := p.b.Value(m)
				cv, okc := p.c.Value(m)
				if !okb || !okc {
					continue // an axis that does not apply to the sample in one run is not compared
				}
				if math.IsNaN(bv) || math.IsNaN(cv) || math.IsInf(bv, 0) || math.IsInf(cv, 0) {
					return nil, fmt.Errorf("%w: sample %s has a non-finite %s", ErrInvalid, p.b.ID, m)
				}
				sb[i] += bv
				scand[i] += cv
				n[i]++
			}
		}
		mr := MetricResult{Metric: m}
		tb, tc, tn := 0.0, 0.0, 0
		for i := range subjects {
			tb, tc, tn = tb+sb[i], tc+scand[i], tn+n[i]
		}
		if tn == 0 {
			return nil, fmt.Errorf("%w: no sample pair has %s in both runs (a run scored before it existed, or an axis that applies to none)", ErrInvalid, m)
		}
		mr.Baseline, mr.Candidate = tb/float64(tn), tc/float64(tn)
		mr.Drop = mr.Baseline - mr.Candidate
		h := fnv.New64a()
		h.Write([]byte(m))
		r := rand.New(rand.NewPCG(opt.Seed, h.Sum64()))
		drops := make([]float64, 0, opt.Draws)
		for range opt.Draws {
			db, dc, dn := 0.0, 0.0, 0
			for range subjects {
				i := r.IntN(len(subjects))
				db, dc, dn = db+sb[i], dc+scand[i], dn+n[i]
			}
			if dn > 0 { // a draw of subjects none of whose pairs has the metric says nothing of it
				drops = append(drops, (db-dc)/float64(dn))
			}
		}
		sort.Float64s(drops)
		mr.DropCI = [2]float64{quantile(drops, opt.Alpha), quantile(drops, 1-opt.Alpha)}
		mr.Regression = mr.DropCI[0] > opt.MaxDrop
		if mr.Regression {
			res.Pass = false
		}
		res.Metrics = append(res.Metrics, mr)
	}
	return res, nil
}

// quantile is the q-quantile of sorted values (nearest rank, lower side).
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Floor(q * float64(len(sorted)-1)))
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (o Options) validate() error {
	if len(o.Metrics) == 0 {
		return fmt.Errorf("%w: no metric to gate", ErrInvalid)
	}
	for _, m := range o.Metrics {
		if !slices.Contains(charis.Metrics, m) {
			return fmt.Errorf("%w: unknown metric %q (want one of %v)", ErrInvalid, m, charis.Metrics)
		}
	}
	switch {
	case !(o.MaxDrop >= 0):
		return fmt.Errorf("%w: --max-drop must be a non-negative number", ErrInvalid)
	case !(o.Alpha > 0 && o.Alpha < 0.5):
		return fmt.Errorf("%w: --alpha must be in (0, 0.5)", ErrInvalid)
	case !(o.MaxUnpaired >= 0 && o.MaxUnpaired < 1):
		return fmt.Errorf("%w: --max-unpaired must be in [0, 1)", ErrInvalid)
	case o.Draws < 1000:
		return fmt.Errorf("%w: at least 1000 bootstrap draws", ErrInvalid)
	}
	return nil
}

// sameSetup refuses runs scored with other encoders or another metric definition.
func sameSetup(a, b *charis.Run) error {
	if err := a.Summary.Provenance.SameSetup(&b.Summary.Provenance); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

func byID(samples []charis.SampleResult) map[string]*charis.SampleResult {
	m := make(map[string]*charis.SampleResult, len(samples))
	for i := range samples {
		m[samples[i].ID] = &samples[i]
	}
	return m
}
