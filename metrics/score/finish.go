package score

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"

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
	cal := sc.opt.Config.TD.Calibration
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
			res.Axes[charis.AxisTD] = metrics.TD(r.Novelty, metrics.Spread(u, g.sum, g.n), g.n-1, &cal)
			c := metrics.CHARIS(res.Axes, &sc.opt.Config)
			res.CHARIS = &c
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
		metric := map[string]func(charis.SampleResult) float64{"charis": func(r charis.SampleResult) float64 { return *r.CHARIS }}
		for _, a := range charis.Axes {
			metric[a] = func(r charis.SampleResult) float64 { return r.Axes[a].Score }
		}
		metric["dino"] = func(r charis.SampleResult) float64 { return r.Classic.DINO }
		metric["clip_i"] = func(r charis.SampleResult) float64 { return r.Classic.CLIPI }
		metric["clip_t"] = func(r charis.SampleResult) float64 { return r.Classic.CLIPT }
		stats, subjects := bootstrap(rs, metric, b, name)
		v.Subjects = subjects
		if subjects > 0 {
			c := stats["charis"]
			v.CHARIS = &c
			for _, a := range charis.Axes {
				v.Axes[a] = stats[a]
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

// bootstrap computes each metric's mean over a variant's scored samples and a percentile
// interval from draws that resample subjects with replacement (each draw's mean weighs a
// subject by its samples). Seeded per variant.
func bootstrap(rs []charis.SampleResult, metric map[string]func(charis.SampleResult) float64, b charis.BootstrapConfig, variant string) (map[string]charis.Stat, int) {
	names := slices.Sorted(maps.Keys(metric))
	type acc struct {
		sum []float64 // per metric, in names order
		n   int
	}
	bySubject := map[string]*acc{}
	for _, r := range rs {
		if r.Status != charis.StatusOK {
			continue
		}
		a := bySubject[r.Subject]
		if a == nil {
			a = &acc{sum: make([]float64, len(names))}
			bySubject[r.Subject] = a
		}
		for m, name := range names {
			a.sum[m] += metric[name](r)
		}
		a.n++
	}
	subjects := slices.Sorted(maps.Keys(bySubject))
	out := map[string]charis.Stat{}
	if len(subjects) == 0 {
		return out, 0
	}
	accs := make([]*acc, len(subjects))
	for i, s := range subjects {
		accs[i] = bySubject[s]
	}
	h := fnv.New64a()
	h.Write([]byte(variant))
	r := rand.New(rand.NewPCG(b.Seed, h.Sum64()))
	draws := make([][]float64, len(names))
	counts := make([]int, len(subjects))
	sums := make([]float64, len(names))
	for range b.Draws {
		clear(counts)
		for range subjects {
			counts[r.IntN(len(subjects))]++
		}
		clear(sums)
		n := 0
		for i, c := range counts {
			if c == 0 {
				continue
			}
			for m := range names {
				sums[m] += float64(c) * accs[i].sum[m]
			}
			n += c * accs[i].n
		}
		for m := range names {
			draws[m] = append(draws[m], sums[m]/float64(n))
		}
	}
	alpha := (1 - b.Confidence) / 2
	for m, name := range names {
		s, n := 0.0, 0
		for _, a := range accs {
			s += a.sum[m]
			n += a.n
		}
		d := draws[m]
		sort.Float64s(d)
		lo := d[int(math.Floor(alpha*float64(len(d))))]
		hi := d[min(len(d)-1, int(math.Ceil((1-alpha)*float64(len(d))))-1)]
		out[name] = charis.Stat{Mean: s / float64(n), CI: [2]float64{lo, hi}}
	}
	return out, len(subjects)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// writeJSONLines writes a file atomically (temp file, then rename).
func writeJSONLines(path string, results []charis.SampleResult) error {
	return writeAtomic(path, func(f *os.File) error {
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
	return writeAtomic(path, func(f *os.File) error {
		enc := json.NewEncoder(f)
		enc.SetIndent("", " ")
		return enc.Encode(v)
	})
}

func writeAtomic(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
