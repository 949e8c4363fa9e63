package flowdit

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's graph DSL reads best unqualified
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
)

// x32 is the model's float type.
const x32 = dtypes.Float32

func shapeOf(_ *Node, dims ...int) shapes.Shape { return shapes.Make(x32, dims...) }

// layerNorm normalises the last axis to zero mean, unit variance, without learned gain
// (adaLN supplies scale and shift).
func layerNorm(x *Node) *Node {
	mean := ReduceAndKeep(x, ReduceMean, -1)
	centered := Sub(x, mean)
	variance := ReduceAndKeep(Square(centered), ReduceMean, -1)
	return Div(centered, Sqrt(Add(variance, ConstAs(x, 1e-6)))) // (Rsqrt has no gradient in GoMLX)
}

// modulate applies adaLN: x·(1 + scale) + shift, scale and shift [B, D] over tokens [B, N, D].
func modulate(x, shift, scale *Node) *Node {
	return Add(Mul(x, Add(OnesLike(ExpandAxes(scale, 1)), ExpandAxes(scale, 1))), ExpandAxes(shift, 1))
}

// The pure-Go backend has no Pad, the gradient of Slice and Split; the differentiable
// selections below are written as products with constant 0/1 tensors instead.

// splitLast cuts the last axis of x [B, n·D] into n parts [B, D].
func splitLast(x *Node, n int) []*Node {
	d := x.Shape().Dimensions
	r := Reshape(x, d[0], n, d[1]/n) // [B, n, D]
	parts := make([]*Node, n)
	for i := range parts {
		onehot := make([]float32, n)
		onehot[i] = 1
		parts[i] = ReduceSum(Mul(r, Reshape(Const(x.Graph(), onehot), 1, n, 1)), 1)
	}
	return parts
}

// tokenRange keeps tokens [from, from+count) of x [B, N, D].
func tokenRange(x *Node, from, count int) *Node {
	n := x.Shape().Dimensions[1]
	sel := make([]float32, n*count) // [N, count]
	for j := range count {
		sel[(from+j)*count+j] = 1
	}
	xt := TransposeAllDims(x, 0, 2, 1) // [B, D, N]
	y := matmulLast(xt, Reshape(Const(x.Graph(), sel), n, count))
	return TransposeAllDims(y, 0, 2, 1) // [B, count, D]
}

// dense is a fully connected layer on the last axis, variables "weights" [in, out] and
// "biases" [out] under scope dense (as GoMLX's layers.Dense names them), computed as one
// rank-2 Dot so its gradient is the fast one installVJPs provides.
func dense(ctx *context.Context, x *Node, out int) *Node {
	c := ctx.In("dense")
	in := x.Shape().Dimensions[x.Rank()-1]
	w := c.VariableWithShape("weights", shapes.Make(x.DType(), in, out)).ValueGraph(x.Graph())
	b := c.WithInitializer(initializers.Zero).VariableWithShape("biases", shapes.Make(x.DType(), out)).ValueGraph(x.Graph())
	ones := make([]int, x.Rank())
	for i := range ones {
		ones[i] = 1
	}
	ones[len(ones)-1] = out
	return Add(matmulLast(x, w), Reshape(b, ones...)) // bias broadcast over the leading axes
}

// mha is multi-head scaled dot-product attention over q, k, v [B, N, H, hd] -> [B, N, H·hd],
// with batched products whose gradients are products too.
func mha(q, k, v *Node) *Node {
	d := q.Shape().Dimensions
	b, n, h, hd := d[0], d[1], d[2], d[3]
	heads := func(x *Node, perm ...int) *Node { return TransposeAllDims(x, perm...) }
	qh := Reshape(heads(q, 0, 2, 1, 3), b*h, n, hd)                      // [B·H, N, hd]
	kt := Reshape(heads(k, 0, 2, 3, 1), b*h, hd, n)                      // [B·H, hd, N]
	vh := Reshape(heads(v, 0, 2, 1, 3), b*h, n, hd)                      // [B·H, N, hd]
	att := Softmax(MulScalar(bmm(qh, kt), 1/math.Sqrt(float64(hd))), -1) // [B·H, N, N]
	out := Reshape(bmm(att, vh), b, h, n, hd)                            // [B, H, N, hd]
	return Reshape(TransposeAllDims(out, 0, 2, 1, 3), b, n, h*hd)
}

// patchify turns [B, H, W, C] into tokens [B, (H/p)·(W/p), p·p·C], row-major over the grid:
// a reshape and a transpose, no convolution (the pure-Go backend cannot train those).
func patchify(x *Node, p int) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	x = Reshape(x, b, h/p, p, w/p, p, c)      // [B, gh, p, gw, p, C]
	x = TransposeAllDims(x, 0, 1, 3, 2, 4, 5) // [B, gh, gw, p, p, C]
	return Reshape(x, b, (h/p)*(w/p), p*p*c)  // [B, gh·gw, p·p·C]
}

// unpatchify inverts patchify for a grid of gh×gw tokens.
func unpatchify(x *Node, b, gh, gw, p, c int) *Node {
	x = Reshape(x, b, gh, gw, p, p, c)        // [B, gh, gw, p, p, C]
	x = TransposeAllDims(x, 0, 1, 3, 2, 4, 5) // [B, gh, p, gw, p, C]
	return Reshape(x, b, gh*p, gw*p, c)       // [B, H, 2W, C]
}

// timeEmbedding maps t ∈ [0, 1] [B] to [B, dim]: sinusoids of 1000·t through a small MLP.
func timeEmbedding(ctx *context.Context, t *Node, dim int) *Node {
	half := dim / 2
	freqs := make([]float32, half)
	for i := range freqs {
		freqs[i] = float32(math.Exp(-math.Log(10000) * float64(i) / float64(half)))
	}
	arg := Mul(ExpandAxes(MulScalar(t, 1000), -1), ExpandAxes(Const(t.Graph(), freqs), 0)) // [B, half]
	emb := Concatenate([]*Node{Sin(arg), Cos(arg)}, -1)                                    // [B, dim]
	emb = activations.Swish(dense(ctx.In("mlp_0"), emb, dim))
	return dense(ctx.In("mlp_1"), emb, dim)
}

// rope2D returns cos and sin tables [textLen + gh·gw, headDim] for axial 2-D rotary
// positions: text tokens are not rotated (cos 1, sin 0); for image tokens over the
// concatenated canvas, the first half of each head rotates with the row and the second half
// with the column, so the reference half (columns ≥ gw/2) and the target half get distinct
// positions.
func rope2D(g *Graph, textLen, gh, gw, headDim int) (cos, sin *Node) {
	quarter := headDim / 4 // frequencies per axis; each rotates a pair of dims
	n := textLen + gh*gw
	cs := make([]float32, n*headDim)
	sn := make([]float32, n*headDim)
	for i := range textLen * headDim {
		cs[i] = 1
	}
	for r := range gh {
		for col := range gw {
			tok := (textLen + r*gw + col) * headDim
			for axis, pos := range []int{r, col} {
				base := axis * headDim / 2
				for f := range quarter {
					theta := float64(pos) * math.Pow(100, -float64(f)/float64(quarter))
					// Pair (base+f, base+f+quarter) rotates by theta.
					for _, i := range []int{base + f, base + f + quarter} {
						cs[tok+i] = float32(math.Cos(theta))
						sn[tok+i] = float32(math.Sin(theta))
					}
				}
			}
		}
	}
	return Reshape(Const(g, cs), n, headDim), Reshape(Const(g, sn), n, headDim)
}

// matmulLast multiplies the last axis of x [..., in] by w [in, out]: [..., out].
func matmulLast(x, w *Node) *Node {
	d := x.Shape().Dimensions
	in, out := d[len(d)-1], w.Shape().Dimensions[1]
	y := Dot(Reshape(x, x.Shape().Size()/in, in), w)
	return Reshape(y, append(append([]int{}, d[:len(d)-1]...), out)...)
}

// rotateHalfMatrix R [hd, hd] maps each axis half (a, b) of a head to (−b, a).
func rotateHalfMatrix(hd int) []float32 {
	q := hd / 4
	m := make([]float32, hd*hd)
	for axis := range 2 {
		base := axis * hd / 2
		for f := range q {
			a, b := base+f, base+f+q
			m[b*hd+a] = -1 // out[a] = −x[b]
			m[a*hd+b] = 1  // out[b] = x[a]
		}
	}
	return m
}

// applyRoPE rotates x [B, N, H, hd] by the tables: x·cos + rotateHalf(x)·sin.
func applyRoPE(x, cos, sin *Node) *Node {
	hd := x.Shape().Dimensions[3]
	c := ExpandAxes(ExpandAxes(cos, 0), 2) // [1, N, 1, hd]
	s := ExpandAxes(ExpandAxes(sin, 0), 2)
	rot := matmulLast(x, Reshape(Const(x.Graph(), rotateHalfMatrix(hd)), hd, hd))
	return Add(Mul(x, c), Mul(rot, s))
}
