package charis

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// A scored run is a folder with samples.jsonl (one SampleResult a line, in manifest
// order) and summary.json (a Summary). It is the contract between scoring, reporting and
// gating.
const (
	SamplesFile = "samples.jsonl"
	SummaryFile = "summary.json"
)

// Sample statuses.
const (
	StatusOK    = "ok"
	StatusError = "error"
)

// AxisValue is one axis of one sample: the raw value, the score in [0, 1], and the axis's
// diagnostics, flattened into one JSON object {"raw": .., "score": .., ...}. An axis that
// does not apply to the sample (CF when the prompt licenses a colour change) has no raw
// value or score: {"applies": false, ...diagnostics}; it is left out of the aggregate.
type AxisValue struct {
	Raw          float64
	Score        float64
	Diag         map[string]any
	Inapplicable bool
}

// NotApplicable is an axis that does not apply to a sample, with the reason in diag.
func NotApplicable(diag map[string]any) AxisValue {
	return AxisValue{Diag: diag, Inapplicable: true}
}

// Applies reports whether the axis has a score for the sample.
func (a AxisValue) Applies() bool { return !a.Inapplicable }

// MarshalJSON flattens the diagnostics beside raw and score.
func (a AxisValue) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(a.Diag)+2)
	for k, v := range a.Diag {
		m[k] = v
	}
	if a.Inapplicable {
		m["applies"] = false
		return json.Marshal(m)
	}
	m["raw"], m["score"] = a.Raw, a.Score
	return json.Marshal(m)
}

// UnmarshalJSON reads raw and score and keeps every other key as a diagnostic.
func (a *AxisValue) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if applies, ok := m["applies"].(bool); ok && !applies {
		delete(m, "applies")
		*a = NotApplicable(m)
		return nil
	}
	raw, ok1 := m["raw"].(float64)
	score, ok2 := m["score"].(float64)
	if !ok1 || !ok2 {
		return fmt.Errorf("axis value needs numeric raw and score")
	}
	delete(m, "raw")
	delete(m, "score")
	a.Raw, a.Score, a.Diag = raw, score, m
	return nil
}

// Classic holds the metrics other papers print, raw cosines in [-1, 1] (×100 when the
// run was scored with that option).
type Classic struct {
	DINO  float64 `json:"dino"`
	CLIPI float64 `json:"clip_i"`
	CLIPT float64 `json:"clip_t"`
}

// SampleResult is one line of samples.jsonl.
type SampleResult struct {
	ID         string               `json:"id"`
	Subject    string               `json:"subject"`
	Variant    string               `json:"variant"`
	Reference  string               `json:"reference,omitempty"` // as in the manifest (relative to it)
	Generated  string               `json:"generated,omitempty"`
	Prompt     string               `json:"prompt,omitempty"`
	Status     string               `json:"status"`
	Reason     string               `json:"reason,omitempty"`
	MaskSource string               `json:"mask_source,omitempty"` // given | segmenter | patch_pca | none (the whole image)
	Axes       map[string]AxisValue `json:"axes,omitempty"`
	CHARIS     *float64             `json:"charis,omitempty"`     // weighted arithmetic mean of the axes that apply
	CHARISGeo  *float64             `json:"charis_geo,omitempty"` // weighted geometric mean, axes floored (metric config geo_floor)
	Classic    *Classic             `json:"classic,omitempty"`
	Judge      *Judgment            `json:"judge,omitempty"` // the identity judge's verdicts (score --judge); its IC is axes.judge_ic
}

// Stat is a mean with its bootstrap confidence interval.
type Stat struct {
	Mean float64    `json:"mean"`
	CI   [2]float64 `json:"ci"`
}

// PercentileCI is the percentile interval of bootstrap draws at a confidence level: the
// draws are sorted in place and the (1−c)/2 and (1+c)/2 percentiles taken by rank. Every
// interval in a summary and a validation is computed so.
func PercentileCI(draws []float64, confidence float64) [2]float64 {
	sort.Float64s(draws)
	n := float64(len(draws))
	alpha := (1 - confidence) / 2
	lo := draws[int(math.Floor(alpha*n))]
	hi := draws[min(len(draws)-1, int(math.Ceil((1-alpha)*n))-1)]
	return [2]float64{lo, hi}
}

// VariantSummary aggregates one variant's samples.
type VariantSummary struct {
	N         int             `json:"n"`        // samples in the manifest
	Failures  int             `json:"failures"` // samples with status error
	Failed    []string        `json:"failed,omitempty"`
	Subjects  int             `json:"subjects"`             // subjects with at least one scored sample
	CHARIS    *Stat           `json:"charis,omitempty"`     // absent when no sample was scored
	CHARISGeo *Stat           `json:"charis_geo,omitempty"` // the geometric aggregate
	Axes      map[string]Stat `json:"axes,omitempty"`       // an axis's mean is over the samples it applies to
	AxisN     map[string]int  `json:"axis_n,omitempty"`     // per axis, the scored samples it applies to
	Classic   map[string]Stat `json:"classic,omitempty"`
	JudgeIC   *Stat           `json:"judge_ic,omitempty"` // score --judge: mean judge IC over the samples it counts on
	Drifted   []DriftCount    `json:"drifted,omitempty"`  // score --judge: attributes judged changed without being asked, most often first
	// MaskSources counts the scored samples by where their subject masks came from
	// (SampleResult.MaskSource: given, segmenter, patch_pca, none).
	MaskSources map[string]int `json:"mask_sources,omitempty"`
}

// Summary is summary.json.
type Summary struct {
	Variants   map[string]*VariantSummary `json:"variants"`
	Bootstrap  BootstrapInfo              `json:"bootstrap"`
	Provenance Provenance                 `json:"provenance"`
	Warnings   []string                   `json:"warnings,omitempty"`
}

// BootstrapInfo records how intervals were drawn.
type BootstrapInfo struct {
	Unit       string  `json:"unit"` // "subject"
	Draws      int     `json:"draws"`
	Seed       uint64  `json:"seed"`
	Confidence float64 `json:"confidence"`
}

// Provenance says what produced a run.
type Provenance struct {
	Version          string            `json:"charisbench_version"`
	Commit           string            `json:"commit,omitempty"`
	Manifest         string            `json:"manifest"` // absolute path at scoring time
	ManifestSHA256   string            `json:"manifest_sha256"`
	MetricConfigHash string            `json:"metric_config_sha256"`
	MetricConfig     MetricConfig      `json:"metric_config"`
	ModelsManifest   string            `json:"models_manifest"`
	Encoders         map[string]string `json:"encoders"` // role -> sha256
	// EncoderRuntime is the engine and device that ran the encoders ("onnxruntime 1.23.2 on
	// cpu", "gomlx v0.26.0 (onnx-gomlx v0.3.4, xla) on cuda"); runs from before it was
	// recorded leave it empty.
	EncoderRuntime string  `json:"encoder_runtime,omitempty"`
	ClassicScale   float64 `json:"classic_scale"`
	// Calibrations are the lo/hi each calibrated axis used (ic, pa, td_spread), with the
	// fit's provenance; Uncalibrated names the axes that ran on lo = 0, hi = 1.
	Calibrations map[string]Calibration `json:"calibrations,omitempty"`
	Uncalibrated []string               `json:"uncalibrated,omitempty"`
	// Shard is set in a shard's run (score --shard): which part of the manifest it holds.
	Shard *Shard `json:"shard,omitempty"`
	// JPEGDecoder names the JPEG decoder (libjpeg-turbo as Pillow, or Go's fallback).
	JPEGDecoder string `json:"jpeg_decoder,omitempty"`
	// WebPDecoder names the WebP decoder (libwebp as Pillow, or Go's fallback); runs from
	// before it was recorded leave it empty.
	WebPDecoder string `json:"webp_decoder,omitempty"`
}

// Shard is part i of n of a manifest: the samples of every n-th subject, counting subjects
// in order of first appearance from i (0-based). Subjects stay whole, so TD's spread and
// the subject bootstrap of merged shards equal an unsharded run's.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Select returns the indices of the samples in the shard.
func (s Shard) Select(samples []Sample) []int {
	order := map[string]int{}
	var out []int
	for i, x := range samples {
		k, ok := order[x.Subject]
		if !ok {
			k = len(order)
			order[x.Subject] = k
		}
		if k%s.Count == s.Index {
			out = append(out, i)
		}
	}
	return out
}

// SameSetup reports why two runs' scores are not comparable: other metric configs,
// encoders, calibrations or classic-metric scales.
func (p *Provenance) SameSetup(q *Provenance) error {
	if p.MetricConfigHash != q.MetricConfigHash {
		return fmt.Errorf("the runs use different metric configs (%.12s vs %.12s)", p.MetricConfigHash, q.MetricConfigHash)
	}
	if p.JPEGDecoder != q.JPEGDecoder {
		return fmt.Errorf("the runs decode JPEG differently (%q vs %q)", p.JPEGDecoder, q.JPEGDecoder)
	}
	if p.WebPDecoder != "" && q.WebPDecoder != "" && p.WebPDecoder != q.WebPDecoder {
		return fmt.Errorf("the runs decode WebP differently (%q vs %q)", p.WebPDecoder, q.WebPDecoder)
	}
	if p.ClassicScale != q.ClassicScale {
		return fmt.Errorf("classic metrics scaled differently (%g vs %g)", p.ClassicScale, q.ClassicScale)
	}
	for _, role := range Roles {
		if x, y := p.Encoders[string(role)], q.Encoders[string(role)]; x != y {
			return fmt.Errorf("the runs use different %s encoders (%.12s vs %.12s)", role, x, y)
		}
	}
	if len(p.Calibrations) != len(q.Calibrations) {
		return fmt.Errorf("the runs calibrate different axes")
	}
	for axis, x := range p.Calibrations {
		if y := q.Calibrations[axis]; x.Lo != y.Lo || x.Hi != y.Hi {
			return fmt.Errorf("the runs calibrate %s differently (lo %g hi %g vs lo %g hi %g)", axis, x.Lo, x.Hi, y.Lo, y.Hi)
		}
	}
	return nil
}
