package gate

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/charisbench/charisbench/charis"
)

// run builds a scored run whose sample i (subject i/3) has every metric equal to value(i).
func run(n int, value func(i int) float64) *charis.Run {
	r := &charis.Run{Summary: &charis.Summary{
		Variants: map[string]*charis.VariantSummary{"v": {N: n}},
		Provenance: charis.Provenance{MetricConfigHash: "cfg", ClassicScale: 1,
			Encoders: map[string]string{"identity": "a", "clip_image": "b", "clip_text": "c"}},
	}}
	for i := range n {
		v := value(i)
		axes := map[string]charis.AxisValue{}
		for _, a := range charis.Axes {
			axes[a] = charis.AxisValue{Raw: v, Score: v}
		}
		r.Samples = append(r.Samples, charis.SampleResult{ID: fmt.Sprint("s", i), Subject: fmt.Sprint("subj", i/3),
			Variant: "v", Status: charis.StatusOK, CHARIS: &v, Axes: axes, Classic: &charis.Classic{DINO: v, CLIPI: v, CLIPT: v}})
	}
	return r
}

func base(i int) float64 { return 0.5 + 0.3*math.Sin(float64(i)) }

func TestGateCases(t *testing.T) {
	opt := DefaultOptions
	cases := []struct {
		name string
		cand *charis.Run
		pass bool
	}{
		{"identical runs pass", run(60, base), true},
		{"a uniform 0.02 drop fails", run(60, func(i int) float64 { return base(i) - 0.02 }), false},
		{"a 0.02 drop smaller than the noise passes", run(60, func(i int) float64 {
			noise := 0.15 // per-subject noise of mean 0: +0.15 and −0.15 on alternate subjects
			if (i/3)%2 == 1 {
				noise = -noise
			}
			return base(i) - 0.02 + noise
		}), true},
		{"a 0.005 uniform drop passes", run(60, func(i int) float64 { return base(i) - 0.005 }), true},
	}
	for _, c := range cases {
		res, err := Compare(run(60, base), c.cand, opt)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		m := res.Metrics[0]
		if c.name == "a 0.02 drop smaller than the noise passes" && math.Abs(m.Drop-0.02) > 1e-9 {
			t.Fatalf("constructed drop %v, want 0.02", m.Drop)
		}
		t.Logf("%s: drop %.4f, interval [%.4f, %.4f], pass %v", c.name, m.Drop, m.DropCI[0], m.DropCI[1], res.Pass)
		if res.Pass != c.pass {
			t.Errorf("%s: pass = %v", c.name, res.Pass)
		}
	}
}

func TestGateFailsClosed(t *testing.T) {
	nan := run(30, base)
	v := math.NaN()
	nan.Samples[4].CHARIS = &v
	otherEnc := run(30, base)
	otherEnc.Summary.Provenance.Encoders = map[string]string{"identity": "x", "clip_image": "b", "clip_text": "c"}
	otherCfg := run(30, base)
	otherCfg.Summary.Provenance.MetricConfigHash = "other"
	fewer := run(20, base)
	allFailed := run(30, base)
	for i := range allFailed.Samples {
		allFailed.Samples[i].Status = charis.StatusError
	}
	for name, cand := range map[string]*charis.Run{"NaN": nan, "other encoder": otherEnc, "other config": otherCfg,
		"different sample sets": fewer} {
		if _, err := Compare(run(30, base), cand, DefaultOptions); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := Compare(allFailed, allFailed, DefaultOptions); !errors.Is(err, ErrInvalid) {
		t.Errorf("no paired scored sample: err = %v, want ErrInvalid", err)
	}
	loose := DefaultOptions
	loose.MaxUnpaired = 0.5
	if _, err := Compare(run(30, base), fewer, loose); err != nil {
		t.Errorf("a third unpaired under --max-unpaired 0.5: %v", err)
	}
	bad := DefaultOptions
	bad.Metrics = []string{"sharpness"}
	if _, err := Compare(run(30, base), run(30, base), bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown metric: %v", err)
	}
}

func TestNewFailuresFail(t *testing.T) {
	cand := run(30, base)
	cand.Samples[3].Status = charis.StatusError
	res, err := Compare(run(30, base), cand, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pass || len(res.NewFailures) != 1 || res.NewFailures[0] != "s3" {
		t.Fatalf("pass %v, new failures %v", res.Pass, res.NewFailures)
	}
}

func TestAxesGated(t *testing.T) {
	opt := DefaultOptions
	opt.Metrics = []string{"charis", "ic", "td"}
	res, err := Compare(run(30, base), run(30, func(i int) float64 { return base(i) - 0.05 }), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Metrics) != 3 || !res.Metrics[1].Regression || !res.Metrics[2].Regression {
		t.Fatalf("%+v", res.Metrics)
	}
}
