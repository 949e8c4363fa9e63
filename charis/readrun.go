package charis

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"

	"github.com/charisbench/charisbench/charis/readfile"
)

// Run is a scored run folder read back: what `charisbench score` wrote.
type Run struct {
	Dir     string
	Summary *Summary
	Samples []SampleResult
}

// ReadRun reads and validates DIR/summary.json and DIR/samples.jsonl. Every scored sample
// must carry CHARIS and the five axes with finite scores in [0, 1]; errors name the file
// and line, so a gate fails closed on a damaged run.
func ReadRun(dir string) (*Run, error) {
	r := &Run{Dir: dir}
	sumPath := filepath.Join(dir, SummaryFile)
	data, err := readfile.Read("scored run's summary", sumPath, readfile.MaxStateBytes)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &r.Summary); err != nil {
		return nil, &FieldError{File: sumPath, Msg: "not a summary: " + err.Error()}
	}
	if r.Summary == nil || len(r.Summary.Variants) == 0 {
		return nil, &FieldError{File: sumPath, Field: "variants", Msg: "no variants"}
	}
	path := filepath.Join(dir, SamplesFile)
	f, err := readfile.Open("scored run's samples", path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	seen := map[string]int{}
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var s SampleResult
		if err := json.Unmarshal(text, &s); err != nil {
			return nil, &FieldError{File: path, Line: line, Msg: "not a sample result: " + err.Error()}
		}
		if err := s.validate(); err != nil {
			return nil, &FieldError{File: path, Line: line, Field: s.ID, Msg: err.Error()}
		}
		if prev, dup := seen[s.ID]; dup {
			return nil, &FieldError{File: path, Line: line, Field: "id", Msg: fmt.Sprintf("%q already on line %d", s.ID, prev)}
		}
		seen[s.ID] = line
		r.Samples = append(r.Samples, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(r.Samples) == 0 {
		return nil, &FieldError{File: path, Msg: "no samples"}
	}
	return r, nil
}

func (s *SampleResult) validate() error {
	if s.ID == "" || s.Variant == "" || s.Subject == "" {
		return fmt.Errorf("id, subject and variant are required")
	}
	switch s.Status {
	case StatusError:
		return nil
	case StatusOK:
	default:
		return fmt.Errorf("unknown status %q", s.Status)
	}
	if s.CHARIS == nil || !unit(*s.CHARIS) {
		return fmt.Errorf("charis missing or outside [0, 1]")
	}
	if s.CHARISGeo != nil && !unit(*s.CHARISGeo) {
		return fmt.Errorf("charis_geo outside [0, 1]")
	}
	for _, a := range Axes {
		v, ok := s.Axes[a]
		if ok && !v.Applies() {
			continue
		}
		if !ok || !unit(v.Score) || math.IsNaN(v.Raw) || math.IsInf(v.Raw, 0) {
			return fmt.Errorf("axis %s missing or not a finite score in [0, 1]", a)
		}
	}
	if s.Classic == nil {
		return fmt.Errorf("classic metrics missing")
	}
	return nil
}

func unit(x float64) bool { return x >= 0 && x <= 1 }

// Value returns a scored sample's value of a metric: "charis", "charis_geo", an axis name,
// or "dino", "clip_i", "clip_t". ok is false when the sample has no such value (an axis
// that does not apply, charis_geo in a run scored before it existed).
func (s *SampleResult) Value(metric string) (float64, bool) {
	switch metric {
	case "charis":
		return *s.CHARIS, true
	case "charis_geo":
		if s.CHARISGeo == nil {
			return 0, false
		}
		return *s.CHARISGeo, true
	case "dino":
		return s.Classic.DINO, true
	case "clip_i":
		return s.Classic.CLIPI, true
	case "clip_t":
		return s.Classic.CLIPT, true
	}
	v, ok := s.Axes[metric]
	return v.Score, ok && v.Applies()
}

// Metrics lists the metric names Value accepts, in report order.
var Metrics = []string{"charis", "charis_geo", AxisIC, AxisPA, AxisCF, AxisVQ, AxisTD, "dino", "clip_i", "clip_t", AxisJudgeIC}
