package score

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/charisbench/charisbench/metrics/cache"
)

// BenchmarkScore scores a charis-world manifest of 1000 samples (40 characters × 5
// prompts, ground truth and 4 perturbed variants, 64 px) twice per iteration with one
// cache: cold (empty cache) and warm (the same manifest again into a fresh folder).
// Reports samples/s of each and their ratio, measured side by side.
func BenchmarkScore(b *testing.B) {
	rt := openRuntime(b)
	dir := buildWorld(b, 40, 5, "blur@0.5", "identity_swap@0.5", "recolour@0.5", "noise@0.5")
	var cold, warm time.Duration
	n := 0
	for b.Loop() {
		c, err := cache.Open(filepath.Join(b.TempDir(), "cache.sqlite"))
		if err != nil {
			b.Fatal(err)
		}
		for i, d := range []*time.Duration{&cold, &warm} {
			opt := options(b, rt, dir)
			opt.Cache = c
			start := time.Now()
			sum, err := Run(context.Background(), opt)
			if err != nil {
				b.Fatal(err)
			}
			*d += time.Since(start)
			if i == 0 {
				for _, v := range sum.Variants {
					n += v.N
				}
			}
		}
		c.Close()
	}
	b.ReportMetric(float64(n)/cold.Seconds(), "cold_samples/s")
	b.ReportMetric(float64(n)/warm.Seconds(), "warm_samples/s")
	b.ReportMetric(cold.Seconds()/warm.Seconds(), "warm_speedup")
}
