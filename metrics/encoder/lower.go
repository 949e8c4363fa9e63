package encoder

import (
	"fmt"

	"github.com/gomlx/onnx-gomlx/onnx"
)

// ONNX element types (TensorProto.DataType) that lowering reads or writes.
const (
	onnxFloat = 1
	onnxInt32 = 6
	onnxInt64 = 7
)

// lowerOps rewrites, in place, the nodes of op types onnx-gomlx v0.3.4 does not convert into
// ones it does, so that the same ONNX file runs on GoMLX unchanged on disk:
//
//   - Sigmoid(x) = 1 / (1 + exp(−x)) (float32 inputs);
//   - Mod(a, b): integers by truncated division, a − b·(a/b), plus b where fmod = 0 and the
//     remainder's sign differs from b's; floats (fmod = 1) with trunc(a/b) = sign·floor(|a/b|);
//   - ArgMax(x): over an axis whose length the graph declares, the first (or, with
//     select_last_index, the last) index where x equals the axis' Max — Split, variadic Max,
//     Equal, Where against an index constant, Split and Min (Max).
//
// It returns how many nodes it rewrote. A node it cannot lower (a dtype or an axis length
// the file does not declare) is an error naming the node.
func lowerOps(m *onnx.Model) (int, error) {
	g := m.Proto.Graph
	if g == nil {
		return 0, nil
	}
	elem := map[string]int32{} // declared element types
	dims := map[string][]int64{}
	values := append(append(append(g.Input[:0:0], g.Input...), g.ValueInfo...), g.Output...)
	for _, v := range values {
		if tt := v.GetType().GetTensorType(); tt != nil {
			elem[v.Name] = tt.ElemType
			if tt.Shape != nil {
				var d []int64
				for _, x := range tt.Shape.GetDim() {
					d = append(d, x.GetDimValue()) // 0: symbolic or unknown
				}
				dims[v.Name] = d
			}
		}
	}
	for _, t := range g.Initializer {
		elem[t.Name] = t.DataType
	}
	for _, n := range g.Node {
		switch n.OpType {
		case "Constant":
			for _, a := range n.Attribute {
				if a.Name == "value" && a.T != nil && len(n.Output) == 1 {
					elem[n.Output[0]] = a.T.DataType
				}
			}
		case "Cast":
			for _, a := range n.Attribute {
				if a.Name == "to" && len(n.Output) == 1 {
					elem[n.Output[0]] = int32(a.I)
				}
			}
		}
	}

	lowered := 0
	out := g.Node[:0:0]
	for _, n := range g.Node {
		if n.Domain != "" && n.Domain != "ai.onnx" {
			out = append(out, n)
			continue
		}
		// emit appends a node of the default domain; attrs holds int, []int64 or
		// constTensor values.
		emit := func(op string, ins []string, outs []string, attrs map[string]any) {
			nn := newOf(n)
			nn.OpType, nn.Input, nn.Output = op, ins, outs
			nn.Name = n.Name + "/lowered/" + outs[0]
			for name, v := range attrs {
				a := newElem(nn.Attribute)
				a.Name = name
				switch v := v.(type) {
				case int:
					a.Type, a.I = 2, int64(v) // INT
				case []int64:
					a.Type, a.Ints = 7, v // INTS
				case constTensor:
					a.Type = 4 // TENSOR
					a.T = newOf(a.T)
					a.T.DataType, a.T.Dims, a.T.FloatData, a.T.Int64Data = v.dtype, v.dims, v.f32, v.i64
				}
				nn.Attribute = append(nn.Attribute, a)
			}
			out = append(out, nn)
		}
		intAttr := func(name string, def int) int {
			for _, a := range n.Attribute {
				if a.Name == name {
					return int(a.I)
				}
			}
			return def
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("node %q (%s): %s", n.Name, n.OpType, fmt.Sprintf(format, args...))
		}
		tmp := func(s string) string { return n.Output[0] + "/lowered/" + s }
		constant := func(name string, t constTensor) string {
			emit("Constant", nil, []string{tmp(name)}, map[string]any{"value": t})
			return tmp(name)
		}

		switch n.OpType {
		case "Sigmoid":
			if dt, ok := elem[n.Input[0]]; ok && dt != onnxFloat {
				return 0, bad("lowered only for float32 inputs, this one has ONNX type %d", dt)
			}
			one := constant("one", constTensor{dtype: onnxFloat, f32: []float32{1}})
			emit("Neg", []string{n.Input[0]}, []string{tmp("neg")}, nil)
			emit("Exp", []string{tmp("neg")}, []string{tmp("exp")}, nil)
			emit("Add", []string{one, tmp("exp")}, []string{tmp("den")}, nil)
			emit("Div", []string{one, tmp("den")}, []string{n.Output[0]}, nil)
		case "Mod":
			a, b := n.Input[0], n.Input[1]
			dt, ok := elem[a]
			if !ok {
				return 0, bad("the graph does not declare the type of %q", a)
			}
			fmod := intAttr("fmod", 0)
			switch {
			case dt == onnxFloat && fmod == 1:
				emit("Div", []string{a, b}, []string{tmp("q")}, nil)
				emit("Sign", []string{tmp("q")}, []string{tmp("sign")}, nil)
				emit("Abs", []string{tmp("q")}, []string{tmp("abs")}, nil)
				emit("Floor", []string{tmp("abs")}, []string{tmp("floor")}, nil)
				emit("Mul", []string{tmp("sign"), tmp("floor")}, []string{tmp("trunc")}, nil)
			case dt == onnxInt32 || dt == onnxInt64:
				emit("Div", []string{a, b}, []string{tmp("trunc")}, nil) // integer division truncates
			default:
				return 0, bad("lowered for int32/int64 (and float32 with fmod=1), not ONNX type %d with fmod=%d", dt, fmod)
			}
			emit("Mul", []string{tmp("trunc"), b}, []string{tmp("prod")}, nil)
			r := n.Output[0]
			if fmod == 0 { // Python's sign rule: the remainder takes the divisor's sign
				r = tmp("rem")
			}
			emit("Sub", []string{a, tmp("prod")}, []string{r}, nil)
			if fmod == 0 {
				emit("Sub", []string{b, b}, []string{tmp("zero")}, nil)
				emit("Equal", []string{r, tmp("zero")}, []string{tmp("exact")}, nil)
				emit("Not", []string{tmp("exact")}, []string{tmp("inexact")}, nil)
				emit("Less", []string{r, tmp("zero")}, []string{tmp("rneg")}, nil)
				emit("Less", []string{b, tmp("zero")}, []string{tmp("bneg")}, nil)
				emit("Xor", []string{tmp("rneg"), tmp("bneg")}, []string{tmp("signs")}, nil)
				emit("And", []string{tmp("inexact"), tmp("signs")}, []string{tmp("fix")}, nil)
				emit("Add", []string{r, b}, []string{tmp("fixed")}, nil)
				emit("Where", []string{tmp("fix"), tmp("fixed"), r}, []string{n.Output[0]}, nil)
			}
		case "ArgMax":
			x := n.Input[0]
			d := dims[x]
			if d == nil {
				return 0, bad("the graph does not declare the shape of %q", x)
			}
			axis := intAttr("axis", 0)
			if axis < 0 {
				axis += len(d)
			}
			if axis < 0 || axis >= len(d) || d[axis] <= 0 {
				return 0, bad("the graph does not declare the length of %q's axis %d (shape %v)", x, intAttr("axis", 0), d)
			}
			l := int(d[axis])
			last := intAttr("select_last_index", 0) == 1
			split := func(in, prefix string) []string {
				var parts []string
				for i := range l {
					parts = append(parts, tmp(fmt.Sprintf("%s%d", prefix, i)))
				}
				emit("Split", []string{in}, parts, map[string]any{"axis": axis})
				return parts
			}
			emit("Max", split(x, "x"), []string{tmp("max")}, nil)
			emit("Equal", []string{x, tmp("max")}, []string{tmp("eq")}, nil)
			idxDims := make([]int64, len(d))
			for i := range idxDims {
				idxDims[i] = 1
			}
			idxDims[axis] = int64(l)
			idx := make([]int64, l)
			for i := range idx {
				idx[i] = int64(i)
			}
			fill, pick := int64(l), "Min"
			if last {
				fill, pick = -1, "Max"
			}
			emit("Where", []string{tmp("eq"), constant("idx", constTensor{dtype: onnxInt64, dims: idxDims, i64: idx}),
				constant("fill", constTensor{dtype: onnxInt64, i64: []int64{fill}})}, []string{tmp("cand")}, nil)
			if intAttr("keepdims", 1) == 1 {
				emit(pick, split(tmp("cand"), "c"), []string{n.Output[0]}, nil)
			} else {
				emit(pick, split(tmp("cand"), "c"), []string{tmp("kept")}, nil)
				emit("Squeeze", []string{tmp("kept")}, []string{n.Output[0]}, map[string]any{"axes": []int64{int64(axis)}})
			}
		default:
			out = append(out, n)
			continue
		}
		lowered++
	}
	g.Node = out
	return lowered, nil
}

// constTensor is the value of a Constant node lowering adds.
type constTensor struct {
	dtype int32
	dims  []int64
	f32   []float32
	i64   []int64
}

// newOf returns a new zero message of x's type: how lowering makes nodes and attributes of
// onnx-gomlx's generated (internal) protobuf types without naming them.
func newOf[E any](_ *E) *E { return new(E) }

// newElem returns a new zero element of a slice of messages.
func newElem[E any](_ []*E) *E { return new(E) }
