package judge

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/charisbench/charisbench/charis"
)

// NewImage is a file's bytes with their sha256.
func NewImage(data []byte) Image {
	h := sha256.Sum256(data)
	return Image{Data: data, SHA256: hex.EncodeToString(h[:])}
}

// NewSample is a manifest row with its images, typed by its class (defaultClass where the
// row has none).
func NewSample(kb *KB, s *charis.Sample, defaultClass string, ref, gen Image) (*Sample, error) {
	typ, err := kb.TypeFor(cmp.Or(s.Class, defaultClass))
	if err != nil {
		return nil, err
	}
	return &Sample{ID: s.ID, Prompt: s.Prompt, Type: typ, Reference: ref, Generated: gen}, nil
}

// RunOptions configure judging a manifest on its own (charisbench judge).
type RunOptions struct {
	Manifest     string
	Out          string // folder: judgments.jsonl is written there
	Backend      Backend
	KB           *KB
	Class        string // class of rows without one; "": object
	MaxFileBytes int64
	Workers      int // samples judged at once; 0: 4
}

// Result is one manifest row's judgment, or why there is none.
type Result struct {
	Index    int              `json:"index"`
	ID       string           `json:"id"`
	Subject  string           `json:"subject"`
	Variant  string           `json:"variant"`
	Status   string           `json:"status"` // ok or error
	Reason   string           `json:"reason,omitempty"`
	Judgment *charis.Judgment `json:"judgment,omitempty"`
}

// Run judges every row of the manifest and writes OUT/judgments.jsonl in manifest order.
// A row that cannot be judged (a missing file, a malformed answer) is recorded as an error
// and the run goes on. An interrupted run writes nothing; the vlm backend's cache keeps
// what was answered, so the same command continues at no cost.
func Run(ctx context.Context, opt RunOptions) ([]Result, error) {
	samples, err := charis.ReadManifest(opt.Manifest)
	if err != nil {
		return nil, err
	}
	if opt.Workers <= 0 {
		opt.Workers = 4
	}
	out := make([]Result, len(samples))
	var g errgroup.Group
	g.SetLimit(opt.Workers)
	for i := range samples {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			out[i] = opt.one(ctx, i, &samples[i])
			return nil // a sample's failure is its result
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted (answers so far are cached; run the same command to continue): %w", err)
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, err
	}
	err = charis.WriteAtomic(filepath.Join(opt.Out, "judgments.jsonl"), func(f *os.File) error {
		enc := json.NewEncoder(f)
		for i := range out {
			if err := enc.Encode(&out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (opt *RunOptions) one(ctx context.Context, i int, s *charis.Sample) Result {
	r := Result{Index: i, ID: s.ID, Subject: s.Subject, Variant: s.Variant, Status: charis.StatusError}
	ref, err := charis.ReadSampleFile(opt.Manifest, "reference", s.Reference, opt.MaxFileBytes)
	if err != nil {
		r.Reason = err.Error()
		return r
	}
	gen, err := charis.ReadSampleFile(opt.Manifest, "generated", s.Generated, opt.MaxFileBytes)
	if err != nil {
		r.Reason = err.Error()
		return r
	}
	js, err := NewSample(opt.KB, s, opt.Class, NewImage(ref), NewImage(gen))
	if err == nil {
		r.Judgment, err = Judge(ctx, opt.Backend, js)
	}
	if err != nil {
		r.Reason = err.Error()
		return r
	}
	r.Status = charis.StatusOK
	return r
}

// VariantSummary sums up one variant's judgments.
type VariantSummary struct {
	Variant string
	Judged  int     // samples with a judgment
	Failed  int     // samples without one
	IC      float64 // mean judge IC over the judged samples that have one
	ICN     int
	Drifted []charis.DriftCount // most often drifted first
}

// Summarize groups results by variant, in name order.
func Summarize(results []Result) []VariantSummary {
	by := map[string]*VariantSummary{}
	drift := map[string]map[string]int{}
	for _, r := range results {
		v := by[r.Variant]
		if v == nil {
			v = &VariantSummary{Variant: r.Variant}
			by[r.Variant], drift[r.Variant] = v, map[string]int{}
		}
		if r.Judgment == nil {
			v.Failed++
			continue
		}
		v.Judged++
		if r.Judgment.IC != nil {
			v.IC += *r.Judgment.IC
			v.ICN++
		}
		charis.CountDrift(drift[r.Variant], r.Judgment)
	}
	var out []VariantSummary
	for _, name := range slices.Sorted(maps.Keys(by)) {
		v := by[name]
		if v.ICN > 0 {
			v.IC /= float64(v.ICN)
		}
		v.Drifted = charis.SortedDrift(drift[name])
		out = append(out, *v)
	}
	return out
}
