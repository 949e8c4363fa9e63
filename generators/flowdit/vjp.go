package flowdit

import (
	"sync"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's graph DSL reads best unqualified
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX v0.26 builds the gradients of Dot and DotGeneral as a broadcast multiply followed
// by a reduction, which its pure-Go backend materialises in full: about 98% of a train
// step. Every matrix product of this model goes through two shapes whose gradients are
// themselves matrix products:
//
//   - a rank-2 Dot, C = A·B: dA = v·Bᵀ, dB = Aᵀ·v;
//   - a batched product made by bmm, C[b] = A[b]·B[b]: dA[b] = v[b]·B[b]ᵀ, dB[b] = A[b]ᵀ·v[b].
//
// installVJPs replaces GoMLX's registered gradients of those node types with these, once,
// and leaves every other Dot and DotGeneral to the original (a DotGeneral's axes are not
// exported from its node, so bmm records the nodes it made).
var (
	installVJPs sync.Once
	bmmNodes    sync.Map // *Node -> struct{}: DotGenerals built by bmm
)

func install() {
	installVJPs.Do(func() {
		origDot := VJPRegistration[NodeTypeDot]
		VJPRegistration[NodeTypeDot] = func(node *Node, vjps []*Node, out shapes.Shape) []*Node {
			in := node.Inputs()
			a, b := in[0], in[1]
			if a.Rank() != 2 || b.Rank() != 2 {
				return origDot(node, vjps, out)
			}
			v := vjps[0] // [i, k]; a [i, j], b [j, k]
			return []*Node{
				DotGeneral(v, []int{1}, nil, b, []int{1}, nil), // [i, j]
				DotGeneral(a, []int{0}, nil, v, []int{0}, nil), // [j, k]
			}
		}
		origDotGeneral := VJPRegistration[NodeTypeDotGeneral]
		VJPRegistration[NodeTypeDotGeneral] = func(node *Node, vjps []*Node, out shapes.Shape) []*Node {
			if _, ours := bmmNodes.Load(node); !ours {
				return origDotGeneral(node, vjps, out)
			}
			in := node.Inputs()
			a, b, v := in[0], in[1], vjps[0] // a [B, M, K], b [B, K, N], v [B, M, N]
			return []*Node{
				DotGeneral(v, []int{2}, []int{0}, b, []int{2}, []int{0}), // [B, M, K]
				DotGeneral(a, []int{1}, []int{0}, v, []int{1}, []int{0}), // [B, K, N]
			}
		}
	})
}

// bmm is the batched matrix product a [B, M, K] · b [B, K, N] -> [B, M, N].
func bmm(a, b *Node) *Node {
	n := DotGeneral(a, []int{2}, []int{0}, b, []int{1}, []int{0})
	bmmNodes.Store(n, struct{}{})
	return n
}
