package score

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics"
	"github.com/charisbench/charisbench/metrics/cache"
)

// minSubjectsForCI is the subject count below which a variant's interval is flagged.
const minSubjectsForCI = 5

// finish computes TD from the whole log (two passes: group sums of G's unit CLS tokens,
// then each sample against its group), writes samples.jsonl and summary.json.
func (sc *scorer) finish(w *work) (*charis.Summary, error) {
	type group struct {
		sum []float64
		n   int
	}
	groups := map[[2]string]*group{}
	err := w.each(func(r *record) error {
		if r.Status != charis.StatusOK {
			return nil
		}
		u, err := cache.DecodeFloats(r.Unit)
		if err != nil {
			return err
		}
		k := [2]string{r.Subject, r.Variant}
		g := groups[k]
		if g == nil {
			g = &group{sum: make([]float64, len(u))}
			groups[k] = g
		}
		for i, v := range u {
			g.sum[i] += float64(v)
		}
		g.n++
		return nil
	})
	if err != nil {
		return nil, err
	}
	results := make([]charis.SampleResult, len(sc.samples))
	seen := make([]bool, len(sc.samples))
	cfg := &sc.opt.Config
	spreadCal := sc.spreadCalibration()
	err = w.each(func(r *record) error {
		if r.Index < 0 || r.Index >= len(results) {
			return fmt.Errorf("work log index %d out of range", r.Index)
		}
		src := sc.samples[r.Index]
		res := charis.SampleResult{ID: r.ID, Subject: r.Subject, Variant: r.Variant, Reference: src.Reference,
			Generated: src.Generated, Prompt: src.Prompt, Status: r.Status, Reason: r.Reason, MaskSource: r.MaskSource, Classic: r.Classic}
		if r.Status == charis.StatusOK {
			g := groups[[2]string{r.Subject, r.Variant}]
			u, err := cache.DecodeFloats(r.Unit)
			if err != nil {
				return err
			}
			res.Axes = r.Axes
			spread := metrics.Spread(u, g.sum, g.n)
			if cfg.Version == charis.MetricV1 {
				res.Axes[charis.AxisTD] = metrics.TD(r.Novelty, spread, g.n-1, spreadCal)
			} else {
				res.Axes[charis.AxisTD] = metrics.TDv2(r.Novelty, spread, g.n-1, spreadCal, r.Axes[charis.AxisIC].Score)
			}
			c, geo := metrics.CHARIS(res.Axes, cfg), metrics.CHARISGeo(res.Axes, cfg)
			res.CHARIS, res.CHARISGeo = &c, &geo
		}
		results[r.Index], seen[r.Index] = res, true
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("sample %s missing from %s", sc.samples[i].ID, w.path)
		}
	}
	if err := writeJSONLines(filepath.Join(sc.opt.Out, charis.SamplesFile), results); err != nil {
		return nil, err
	}
	sum := sc.summarize(results)
	if err := writeJSON(filepath.Join(sc.opt.Out, charis.SummaryFile), sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// summarize aggregates results per variant with a bootstrap over subjects.
func (sc *scorer) summarize(results []charis.SampleResult) *charis.Summary {
	b := sc.opt.Config.Bootstrap
	s := &charis.Summary{
		Variants:  map[string]*charis.VariantSummary{},
		Bootstrap: charis.BootstrapInfo{Unit: "subject", Draws: b.Draws, Seed: b.Seed, Confidence: b.Confidence},
		Provenance: charis.Provenance{Version: charis.Version, Commit: charis.Commit(), Manifest: absPath(sc.opt.Manifest),
			ManifestSHA256: sc.manifestH, MetricConfigHash: sc.opt.Config.SHA256(), MetricConfig: sc.opt.Config,
			ModelsManifest: sc.opt.Models.Path(), Encoders: sc.encShas, ClassicScale: sc.opt.ClassicScale},
	}
	if sc.opt.Config.Version >= charis.MetricV2 {
		s.Provenance.Calibrations = map[string]charis.Calibration{}
		cals := sc.calibrations()
		for _, axis := range []string{calIC, calPA, calTDSpread} {
			cal := cals[axis]
			if cal == nil || cal.Fit == nil {
				lo, hi := 0.0, 1.0
				if cal != nil {
					lo, hi = cal.Lo, cal.Hi
				}
				s.Provenance.Uncalibrated = append(s.Provenance.Uncalibrated, axis)
				s.Warnings = append(s.Warnings, fmt.Sprintf("%s has no fitted calibration (lo = %g, hi = %g), so its scores are not on the scale CHARIS v2 assumes: run charisbench calibrate (docs/validation.md)", axis, lo, hi))
			}
			if cal != nil {
				s.Provenance.Calibrations[axis] = *cal
			}
		}
	}
	byVariant := map[string][]charis.SampleResult{}
	for _, r := range results {
		byVariant[r.Variant] = append(byVariant[r.Variant], r)
	}
	for _, name := range slices.Sorted(maps.Keys(byVariant)) {
		rs := byVariant[name]
		v := &charis.VariantSummary{N: len(rs), Axes: map[string]charis.Stat{}, Classic: map[string]charis.Stat{}}
		for _, r := range rs {
			if r.Status != charis.StatusOK {
				v.Failures++
				v.Failed = append(v.Failed, r.ID)
			}
		}
		stats, counts, subjects := bootstrap(rs, charis.Metrics, b, name)
		v.Subjects = subjects
		if subjects > 0 {
			c := stats["charis"]
			v.CHARIS = &c
			if g, ok := stats["charis_geo"]; ok {
				v.CHARISGeo = &g
			}
			v.AxisN = map[string]int{}
			for _, a := range charis.Axes {
				if st, ok := stats[a]; ok {
					v.Axes[a] = st
				}
				v.AxisN[a] = counts[a]
			}
			for _, c := range []string{"dino", "clip_i", "clip_t"} {
				v.Classic[c] = stats[c]
			}
		}
		if subjects == 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("variant %s: no sample was scored", name))
		} else if subjects < minSubjectsForCI {
			s.Warnings = append(s.Warnings, fmt.Sprintf("variant %s: %d subjects; its intervals are unreliable", name, subjects))
		}
		if v.Failures > 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("variant %s: %d of %d samples failed", name, v.Failures, v.N))
		}
		s.Variants[name] = v
	}
	return s
}

// bootstrap computes each metric's mean over a variant's scored samples that have it (an
// axis that does not apply to a sample is left out of that axis only) and a percentile
// interval from draws that resample subjects with replacement (each draw's mean weighs a
// subject by its samples). Seeded per variant. It returns, per metric, the stat and the
// number of samples behind it, and the number of subjects with a scored sample.
func bootstrap(rs []charis.SampleResult, metrics []string, b charis.BootstrapConfig, variant string) (map[string]charis.Stat, map[string]int, int) {
	names := slices.Sorted(slices.Values(metrics))
	type acc struct {
		sum []float64 // per metric, in names order
		n   []int
	}
	bySubject := map[string]*acc{}
	for _, r := range rs {
		if r.Status != charis.StatusOK {
			continue
		}
		a := bySubject[r.Subject]
		if a == nil {
			a = &acc{sum: make([]float64, len(names)), n: make([]int, len(names))}
			bySubject[r.Subject] = a
		}
		for m, name := range names {
			if v, ok := r.Value(name); ok {
				a.sum[m] += v
				a.n[m]++
			}
		}
	}
	subjects := slices.Sorted(maps.Keys(bySubject))
	out, counts := map[string]charis.Stat{}, map[string]int{}
	if len(subjects) == 0 {
		return out, counts, 0
	}
	accs := make([]*acc, len(subjects))
	for i, s := range subjects {
		accs[i] = bySubject[s]
	}
	h := fnv.New64a()
	h.Write([]byte(variant))
	r := rand.New(rand.NewPCG(b.Seed, h.Sum64()))
	draws := make([][]float64, len(names))
	counts0 := make([]int, len(subjects))
	sums := make([]float64, len(names))
	ns := make([]int, len(names))
	for range b.Draws {
		clear(counts0)
		for range subjects {
			counts0[r.IntN(len(subjects))]++
		}
		clear(sums)
		clear(ns)
		for i, c := range counts0 {
			if c == 0 {
				continue
			}
			for m := range names {
				sums[m] += float64(c) * accs[i].sum[m]
				ns[m] += c * accs[i].n[m]
			}
		}
		for m := range names {
			if ns[m] > 0 { // a draw of subjects none of whose samples has the metric says nothing of it
				draws[m] = append(draws[m], sums[m]/float64(ns[m]))
			}
		}
	}
	for m, name := range names {
		s, n := 0.0, 0
		for _, a := range accs {
			s += a.sum[m]
			n += a.n[m]
		}
		counts[name] = n
		d := draws[m]
		if n == 0 || len(d) == 0 {
			continue
		}
		out[name] = charis.Stat{Mean: s / float64(n), CI: charis.PercentileCI(d, b.Confidence)}
	}
	return out, counts, len(subjects)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// writeJSONLines writes a file atomically (temp file, then rename).
func writeJSONLines(path string, results []charis.SampleResult) error {
	return charis.WriteAtomic(path, func(f *os.File) error {
		enc := json.NewEncoder(f)
		for i := range results {
			if err := enc.Encode(&results[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func writeJSON(path string, v any) error {
	return charis.WriteAtomic(path, func(f *os.File) error {
		enc := json.NewEncoder(f)
		enc.SetIndent("", " ")
		return enc.Encode(v)
	})
}
