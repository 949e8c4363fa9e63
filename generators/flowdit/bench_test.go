package flowdit

import (
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's graph DSL reads best unqualified
	"github.com/gomlx/gomlx/pkg/core/tensors"
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

// BenchmarkMatMul times one 256×256×256 float32 matrix product on the pure-Go backend, the
// floor a train step made of such products cannot beat. Reports GFLOP/s.
func BenchmarkMatMul(b *testing.B) {
	be := backend(b)
	const n = 256
	r := rand.New(rand.NewPCG(1, 1))
	data := make([]float32, n*n)
	for i := range data {
		data[i] = float32(r.NormFloat64())
	}
	x := tensors.FromFlatDataAndDimensions(data, n, n)
	exec, err := NewExec(be, func(a, c *Node) *Node { return Dot(a, c) })
	if err != nil {
		b.Fatal(err)
	}
	if _, err := exec.Exec(x, x); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		out, err := exec.Exec(x, x)
		if err != nil {
			b.Fatal(err)
		}
		out[0].FinalizeAll()
	}
	b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
