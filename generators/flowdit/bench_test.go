package flowdit

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkTrainStep times one Adam step of the Tiny model on a batch of 8 (32×32 targets,
// 24 text tokens) on the pure-Go backend. Reports ms/step.
func BenchmarkTrainStep(b *testing.B) {
	be := backend(b)
	m, err := New(Tiny, be, 1)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	batch := randBatch(r, Tiny, 8)
	if _, err := m.TrainStep(batch, Masked, 1e-3, r); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.TrainStep(batch, Masked, 1e-3, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/step")
}
