package encoder

import (
	"fmt"
	"image"
	"slices"
	"time"

	"github.com/charisbench/charisbench/charis"
)

// Speed is one encoder's throughput on inputs already decoded and preprocessed.
type Speed struct {
	Name, Role string
	Batch      int     // inputs per batch: the runtime's batch size
	First      float64 // seconds of the first batch: compilation on GoMLX, warm-up on ONNX Runtime
	Batches    int     // timed batches after the first
	PerSecond  float64 // inputs (images or prompts) per second over the timed batches
	Err        error
}

// Bench times the encoders of a manifest for the given roles (all when roles is empty):
// one batch of the runtime's batch size to compile and warm up, then full batches until d
// has passed (at least three). Images are synthetic and preprocessed before timing starts,
// so what is timed is normalisation, the encoder and the copy of its output; prompts are
// tokenized inside the timing. A figure to compare with the same encoders run by other means
// (tools/bench/encoders_peer.py), or across runtimes and devices.
func (rt *Runtime) Bench(m *charis.ModelManifest, roles []charis.Role, d time.Duration) []Speed {
	var out []Speed
	n := rt.opt.BatchSize
	for i := range m.Encoders {
		e := &m.Encoders[i]
		if len(roles) > 0 && !slices.Contains(roles, e.Role) {
			continue
		}
		sp := Speed{Name: e.Name, Role: string(e.Role), Batch: n}
		sp.First, sp.Batches, sp.PerSecond, sp.Err = rt.bench(m, e.Role, n, d)
		out = append(out, sp)
	}
	return out
}

func (rt *Runtime) bench(m *charis.ModelManifest, role charis.Role, n int, d time.Duration) (first float64, batches int, perSec float64, err error) {
	s, err := rt.Load(m, role)
	if err != nil {
		return 0, 0, 0, err
	}
	defer s.Close()
	var run func() error
	if role == charis.RoleCLIPText {
		prompts := make([]string, n)
		for i := range prompts {
			prompts[i] = fmt.Sprintf("a photo of a red backpack on a table, number %d", i)
		}
		run = func() error { _, err := s.EncodeTexts(prompts); return err }
	} else {
		pxs := make([]*image.RGBA, n)
		for i, img := range syntheticImages(n) {
			if pxs[i], err = s.pixels.Pixels(img); err != nil {
				return 0, 0, 0, err
			}
		}
		run = func() error { _, err := s.EncodePixels(pxs); return err }
	}
	start := time.Now()
	if err := run(); err != nil {
		return 0, 0, 0, err
	}
	first = time.Since(start).Seconds()
	start = time.Now()
	for batches < 3 || time.Since(start) < d {
		if err := run(); err != nil {
			return first, batches, 0, err
		}
		batches++
	}
	return first, batches, float64(batches*n) / time.Since(start).Seconds(), nil
}
