package score

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio/libwebp"
	"github.com/charisbench/charisbench/charis/imageio/turbojpeg"
	"github.com/charisbench/charisbench/metrics"
	"github.com/charisbench/charisbench/metrics/cache"
)

// minSubjectsForCI is the subject count below which a variant's interval is flagged.
const minSubjectsForCI = 5

// finish computes TD from the whole log and writes samples.jsonl and summary.json, in two
// passes over the log so memory does not grow with the manifest beyond a byte offset per
// sample: the first sums each (subject, variant) group's unit vectors (TD's spread) and
// notes where each sample's record is; the second reads the records in manifest order,
// finishes each sample, writes its line and adds it to the summary's per-subject sums.
func (sc *scorer) finish(w *work) (*charis.Summary, error) {
	type group struct {
		sum []float64
		n   int
	}
	groups := map[[2]string]*group{}
	offsets := make([]int64, len(sc.samples))
	for i := range offsets {
		offsets[i] = -1
	}
	err := w.each(func(r *record, off int64) error {
		if r.Index < 0 || r.Index >= len(offsets) {
			return fmt.Errorf("%s: sample index %d out of range", w.path, r.Index)
		}
		offsets[r.Index] = off
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
	for i, off := range offsets {
		if off < 0 {
			return nil, fmt.Errorf("sample %s missing from %s", sc.samples[i].ID, w.path)
		}
	}
	rd, err := w.reader()
	if err != nil {
		return nil, err
	}
	defer rd.close()
	cfg := &sc.opt.Config
	spreadCal := sc.spreadCalibration()
	acc := newSummarizer()
	err = charis.WriteAtomic(filepath.Join(sc.opt.Out, charis.SamplesFile), func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		enc := json.NewEncoder(bw)
		for i, off := range offsets {
			r, err := rd.at(off)
			if err != nil {
				return err
			}
			src := sc.samples[i]
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
				if res.Judge = r.Judge; r.Judge != nil && r.Judge.IC != nil { // beside the axes, not in CHARIS
					res.Axes[charis.AxisJudgeIC] = charis.AxisValue{Raw: *r.Judge.IC, Score: *r.Judge.IC}
				}
			}
			if err := enc.Encode(&res); err != nil {
				return err
			}
			acc.add(&res)
		}
		return bw.Flush()
	})
	if err != nil {
		return nil, err
	}
	sum := acc.summary(sc.provenance())
	if err := writeJSON(filepath.Join(sc.opt.Out, charis.SummaryFile), sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// provenance says what produced the run: inputs, encoders, the metric and its calibrations.
func (sc *scorer) provenance() charis.Provenance {
	p := charis.Provenance{Version: charis.Version, Commit: charis.Commit(), Manifest: absPath(sc.opt.Manifest),
		ManifestSHA256: sc.manifestH, MetricConfigHash: sc.opt.Config.SHA256(), MetricConfig: sc.opt.Config,
		ModelsManifest: sc.opt.Models.Path(), Encoders: sc.encShas, EncoderRuntime: sc.opt.Runtime.Describe(), ClassicScale: sc.opt.ClassicScale, Shard: sc.opt.Shard,
		JPEGDecoder: turbojpeg.Name, WebPDecoder: libwebp.Name}
	if sc.opt.Config.Version >= charis.MetricV2 {
		p.Calibrations = map[string]charis.Calibration{}
		for axis, cal := range sc.calibrations() {
			if cal == nil || cal.Fit == nil {
				p.Uncalibrated = append(p.Uncalibrated, axis)
			}
			if cal != nil {
				p.Calibrations[axis] = *cal
			}
		}
		slices.Sort(p.Uncalibrated)
	}
	return p
}

// summarize aggregates results per variant with a bootstrap over subjects.
func summarize(results []charis.SampleResult, prov charis.Provenance) *charis.Summary {
	acc := newSummarizer()
	for i := range results {
		acc.add(&results[i])
	}
	return acc.summary(prov)
}

// summarizer gathers what a summary needs from results one at a time: per variant the
// counts and failures, per subject the sum and count of every metric.
type summarizer struct {
	variants map[string]*variantAcc
}

type variantAcc struct {
	n        int
	failed   []string
	subjects map[string]*subjectAcc
	drift    map[string]int // score --judge: per attribute, the samples it drifted in
	masks    map[string]int // scored samples per mask source
}

// subjectAcc holds one subject's sums and counts, per metric in charis.Metrics order.
type subjectAcc struct {
	sum []float64
	n   []int
}

func newSummarizer() *summarizer { return &summarizer{variants: map[string]*variantAcc{}} }

func (s *summarizer) add(r *charis.SampleResult) {
	v := s.variants[r.Variant]
	if v == nil {
		v = &variantAcc{subjects: map[string]*subjectAcc{}, drift: map[string]int{}, masks: map[string]int{}}
		s.variants[r.Variant] = v
	}
	v.n++
	if r.Status != charis.StatusOK {
		v.failed = append(v.failed, r.ID)
		return
	}
	if r.Judge != nil {
		charis.CountDrift(v.drift, r.Judge)
	}
	if r.MaskSource != "" {
		v.masks[r.MaskSource]++
	}
	a := v.subjects[r.Subject]
	if a == nil {
		a = &subjectAcc{sum: make([]float64, len(charis.Metrics)), n: make([]int, len(charis.Metrics))}
		v.subjects[r.Subject] = a
	}
	for m, name := range charis.Metrics {
		if x, ok := r.Value(name); ok {
			a.sum[m] += x
			a.n[m]++
		}
	}
}

func (s *summarizer) summary(prov charis.Provenance) *charis.Summary {
	b := prov.MetricConfig.Bootstrap
	sum := &charis.Summary{
		Variants:   map[string]*charis.VariantSummary{},
		Bootstrap:  charis.BootstrapInfo{Unit: "subject", Draws: b.Draws, Seed: b.Seed, Confidence: b.Confidence},
		Provenance: prov,
	}
	for _, axis := range prov.Uncalibrated {
		lo, hi := 0.0, 1.0
		if cal, ok := prov.Calibrations[axis]; ok {
			lo, hi = cal.Lo, cal.Hi
		}
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s has no fitted calibration (lo = %g, hi = %g), so its scores are not on the scale CHARIS v2 assumes: run charisbench calibrate (docs/validation.md)", axis, lo, hi))
	}
	for _, name := range slices.Sorted(maps.Keys(s.variants)) {
		va := s.variants[name]
		v := &charis.VariantSummary{N: va.n, Failures: len(va.failed), Failed: va.failed, Axes: map[string]charis.Stat{}, Classic: map[string]charis.Stat{}}
		stats, counts := bootstrap(va.subjects, b, name)
		v.Subjects = len(va.subjects)
		if len(va.masks) > 0 {
			v.MaskSources = va.masks
		}
		if v.Subjects > 0 {
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
			if st, ok := stats[charis.AxisJudgeIC]; ok {
				v.JudgeIC = &st
				v.Drifted = charis.SortedDrift(va.drift)
			}
		}
		switch {
		case v.Subjects == 0:
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("variant %s: no sample was scored", name))
		case v.Subjects < minSubjectsForCI:
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("variant %s: %d subjects; its intervals are unreliable", name, v.Subjects))
		}
		if v.Failures > 0 {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("variant %s: %d of %d samples failed", name, v.Failures, v.N))
		}
		sum.Variants[name] = v
	}
	return sum
}

// bootstrap computes each metric's mean over a variant's scored samples that have it (an
// axis that does not apply to a sample is left out of that axis only) and a percentile
// interval from draws that resample subjects with replacement (each draw's mean weighs a
// subject by its samples). Seeded per variant. It returns, per metric of charis.Metrics,
// the stat and the number of samples behind it.
func bootstrap(bySubject map[string]*subjectAcc, b charis.BootstrapConfig, variant string) (map[string]charis.Stat, map[string]int) {
	names := charis.Metrics
	subjects := slices.Sorted(maps.Keys(bySubject))
	out, counts := map[string]charis.Stat{}, map[string]int{}
	if len(subjects) == 0 {
		return out, counts
	}
	accs := make([]*subjectAcc, len(subjects))
	for i, s := range subjects {
		accs[i] = bySubject[s]
	}
	h := fnv.New64a()
	h.Write([]byte(variant))
	r := rand.New(rand.NewPCG(b.Seed, h.Sum64()))
	draws := make([][]float64, len(names))
	picks := make([]int, len(subjects))
	sums := make([]float64, len(names))
	ns := make([]int, len(names))
	for range b.Draws {
		clear(picks)
		for range subjects {
			picks[r.IntN(len(subjects))]++
		}
		clear(sums)
		clear(ns)
		for i, c := range picks {
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
		if n == 0 || len(draws[m]) == 0 {
			continue
		}
		out[name] = charis.Stat{Mean: s / float64(n), CI: charis.PercentileCI(draws[m], b.Confidence)}
	}
	return out, counts
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
