package metrics

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkPatchMatch: IC's patch matching for one sample of a DINOv2 ViT-S/14 at 224 px
// (256 patch tokens of 384 a side), both directions. Reports samples/s.
func BenchmarkPatchMatch(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	tokens := func() [][]float32 {
		vs := make([][]float32, 256)
		for i := range vs {
			vs[i] = make([]float32, 384)
			for j := range vs[i] {
				vs[i][j] = float32(r.NormFloat64())
			}
		}
		return normalizeAll(vs)
	}
	a, c := tokens(), tokens()
	for b.Loop() {
		meanMaxCosines(a, c)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
