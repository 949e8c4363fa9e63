package flowdit

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's graph DSL reads best unqualified
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestFastGradientsMatchGoMLX: the gradients installVJPs registers for rank-2 Dot and bmm
// equal those of GoMLX's own DotGeneral gradient (reached through Einsum, which bmm does
// not register) on random inputs.
func TestFastGradientsMatchGoMLX(t *testing.T) {
	be := backend(t)
	install()
	r := rand.New(rand.NewPCG(1, 1))
	randT := func(dims ...int) *tensors.Tensor {
		n := 1
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(v, dims...)
	}
	cases := []struct {
		name      string
		a, b, w   *tensors.Tensor
		fast, ref func(a, b *Node) *Node
	}{
		{"dot", randT(5, 7), randT(7, 3), randT(5, 3),
			func(a, b *Node) *Node { return Dot(a, b) }, func(a, b *Node) *Node { return Einsum("ij,jk->ik", a, b) }},
		{"bmm", randT(4, 5, 7), randT(4, 7, 3), randT(4, 5, 3),
			bmm, func(a, b *Node) *Node { return Einsum("bij,bjk->bik", a, b) }},
	}
	for _, c := range cases {
		// Both gradients, flattened into one vector.
		grads := func(prod func(a, b *Node) *Node) []float32 {
			out, err := ExecOnce(be, func(a, b, w *Node) *Node {
				g := Gradient(ReduceAllSum(Mul(prod(a, b), w)), a, b)
				return Concatenate([]*Node{Reshape(g[0], g[0].Shape().Size()), Reshape(g[1], g[1].Shape().Size())}, 0)
			}, c.a, c.b, c.w)
			if err != nil {
				t.Fatal(err)
			}
			return tensors.MustCopyFlatData[float32](out)
		}
		fast, ref := grads(c.fast), grads(c.ref)
		for j := range fast {
			if math.Abs(float64(fast[j]-ref[j])) > 1e-4 {
				t.Fatalf("%s: gradients differ at %d: %v vs %v", c.name, j, fast[j], ref[j])
			}
		}
	}
}
