package gomlxblas

import (
	"math"
	"runtime"
	"slices"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// walk visits a shape in row-major order, one run of its innermost axis at a time, keeping
// an offset into each operand from per-axis strides (0 where an operand is broadcast).
// Axes of size 1 are dropped and neighbours every operand reads contiguously are merged,
// so a bias add over [B, T, D] is B·T runs of D, and a scalar broadcast a single run.
type walk struct {
	dims    []int
	strides [][]int // [operand][axis]
	base    []int   // [operand] offset of the first element (a part of a split walk)
	first   int     // the walked shape's flat index of the first element
}

func newWalk(dims []int, strides ...[]int) walk {
	w := walk{strides: make([][]int, len(strides))}
	for a, d := range dims {
		if d == 1 {
			continue
		}
		if len(w.dims) > 0 {
			last := len(w.dims) - 1
			merge := true
			for k, s := range strides {
				if w.strides[k][last] != s[a]*d {
					merge = false
					break
				}
			}
			if merge {
				w.dims[last] *= d
				for k, s := range strides {
					w.strides[k][last] = s[a]
				}
				continue
			}
		}
		w.dims = append(w.dims, d)
		for k, s := range strides {
			w.strides[k] = append(w.strides[k], s[a])
		}
	}
	if len(w.dims) == 0 { // a single element
		w.dims = []int{1}
		for k := range strides {
			w.strides[k] = []int{0}
		}
	}
	w.base = make([]int, len(strides))
	return w
}

// parallelMin is the fewest elements worth spreading over threads.
const parallelMin = 1 << 15

// split cuts the walk's outermost axis into at most n parts that can run concurrently when
// each writes its own elements (not so for a reduction along that axis).
func (w walk) split(n int) []walk {
	size := 1
	for _, d := range w.dims {
		size *= d
	}
	n = min(n, w.dims[0], size/parallelMin)
	if n <= 1 {
		return []walk{w}
	}
	inner := size / w.dims[0]
	parts := make([]walk, 0, n)
	for i := range n {
		lo, hi := i*w.dims[0]/n, (i+1)*w.dims[0]/n
		p := walk{dims: append([]int{hi - lo}, w.dims[1:]...), strides: w.strides, base: make([]int, len(w.base)), first: w.first + lo*inner}
		for k := range w.base {
			p.base[k] = w.base[k] + lo*w.strides[k][0]
		}
		parts = append(parts, p)
	}
	return parts
}

// runParallel runs fn over the walk's parts on simplego's worker pool; pos starts at each
// part's flat index of its first element, for fn to advance.
func (w walk) runParallel(be unsafe.Pointer, fn func(off []int, n int, inner []int, pos *int)) {
	parts := w.split(runtime.GOMAXPROCS(0))
	parallel(be, len(parts), func(i int) {
		p := parts[i]
		pos := p.first
		p.run(func(off []int, n int, inner []int) { fn(off, n, inner, &pos) })
	})
}

// run calls run(offsets, n, innerStrides) for each run of n elements of the innermost axis.
func (w walk) run(fn func(off []int, n int, inner []int)) {
	last := len(w.dims) - 1
	off := slices.Clone(w.base)
	inner := make([]int, len(w.strides))
	for k := range w.strides {
		inner[k] = w.strides[k][last]
	}
	idx := make([]int, last)
	for {
		fn(off, w.dims[last], inner)
		a := last - 1
		for ; a >= 0; a-- {
			idx[a]++
			for k := range off {
				off[k] += w.strides[k][a]
			}
			if idx[a] < w.dims[a] {
				break
			}
			for k := range off {
				off[k] -= w.strides[k][a] * w.dims[a]
			}
			idx[a] = 0
		}
		if a < 0 {
			return
		}
	}
}

// rowMajor returns the row-major strides of dims.
func rowMajor(dims []int) []int {
	s := make([]int, len(dims))
	stride := 1
	for a := len(dims) - 1; a >= 0; a-- {
		s[a] = stride
		stride *= dims[a]
	}
	return s
}

// broadcastStrides are the strides that read an operand of the output's rank (or of size
// 1) at each output position, 0 along the axes it is broadcast on; ok is false for shapes
// implicit broadcasting does not allow.
func broadcastStrides(operand, out shapes.Shape) ([]int, bool) {
	if operand.Size() == 1 {
		return make([]int, out.Rank()), true
	}
	if operand.Rank() != out.Rank() {
		return nil, false
	}
	s := rowMajor(operand.Dimensions)
	for a, d := range operand.Dimensions {
		switch d {
		case out.Dimensions[a]:
		case 1:
			s[a] = 0
		default:
			return nil, false
		}
	}
	return s, true
}

func isFloat32(bufs ...*buffer) bool {
	for _, b := range bufs {
		if b.shape.DType != dtypes.Float32 {
			return false
		}
	}
	return true
}

// execBinary runs float32 Add, Sub, Mul, Div, Max and Min with implicit broadcasting,
// reusing an owned input of the output's shape as simplego does.
func execBinary(be unsafe.Pointer, n *node, inputs []*buffer, owned []bool) (*buffer, error) {
	lhs, rhs := inputs[0], inputs[1]
	if !isFloat32(lhs, rhs) || n.shape.DType != dtypes.Float32 {
		return original[n.opType](be, n, inputs, owned)
	}
	sa, okA := broadcastStrides(lhs.shape, n.shape)
	sb, okB := broadcastStrides(rhs.shape, n.shape)
	if !okA || !okB {
		return original[n.opType](be, n, inputs, owned)
	}
	a, b := lhs.flat.([]float32), rhs.flat.([]float32)
	var out *buffer
	switch {
	case owned[1] && rhs.shape.Equal(n.shape):
		out, inputs[1] = rhs, nil
	case owned[0] && lhs.shape.Equal(n.shape):
		out, inputs[0] = lhs, nil
	default:
		out = getBufferForShape(be, n.shape)
	}
	c := out.flat.([]float32)
	kernel := binaryKernels[n.opType]
	newWalk(n.shape.Dimensions, sa, sb).runParallel(be, func(off []int, cnt int, inner []int, pos *int) {
		kernel(c[*pos:*pos+cnt], a[off[0]:], b[off[1]:], inner[0], inner[1])
		*pos += cnt
	})
	return out, nil
}

// A binary kernel writes c[i] = a[i·sa] op b[i·sb]; c may alias a or b exactly.
type binaryKernel func(c, a, b []float32, sa, sb int)

var binaryKernels = map[backends.OpType]binaryKernel{
	backends.OpTypeAdd: func(c, a, b []float32, sa, sb int) {
		switch {
		case sa == 1 && sb == 1:
			a, b = a[:len(c)], b[:len(c)]
			for i := range c {
				c[i] = a[i] + b[i]
			}
		case sa == 1 && sb == 0:
			a, v := a[:len(c)], b[0]
			for i := range c {
				c[i] = a[i] + v
			}
		case sa == 0 && sb == 1:
			v, b := a[0], b[:len(c)]
			for i := range c {
				c[i] = v + b[i]
			}
		default:
			for i := range c {
				c[i] = a[i*sa] + b[i*sb]
			}
		}
	},
	backends.OpTypeSub: func(c, a, b []float32, sa, sb int) {
		switch {
		case sa == 1 && sb == 1:
			a, b = a[:len(c)], b[:len(c)]
			for i := range c {
				c[i] = a[i] - b[i]
			}
		case sa == 1 && sb == 0:
			a, v := a[:len(c)], b[0]
			for i := range c {
				c[i] = a[i] - v
			}
		case sa == 0 && sb == 1:
			v, b := a[0], b[:len(c)]
			for i := range c {
				c[i] = v - b[i]
			}
		default:
			for i := range c {
				c[i] = a[i*sa] - b[i*sb]
			}
		}
	},
	backends.OpTypeMul: func(c, a, b []float32, sa, sb int) {
		switch {
		case sa == 1 && sb == 1:
			a, b = a[:len(c)], b[:len(c)]
			for i := range c {
				c[i] = a[i] * b[i]
			}
		case sa == 1 && sb == 0:
			a, v := a[:len(c)], b[0]
			for i := range c {
				c[i] = a[i] * v
			}
		case sa == 0 && sb == 1:
			v, b := a[0], b[:len(c)]
			for i := range c {
				c[i] = v * b[i]
			}
		default:
			for i := range c {
				c[i] = a[i*sa] * b[i*sb]
			}
		}
	},
	backends.OpTypeDiv: func(c, a, b []float32, sa, sb int) {
		switch {
		case sa == 1 && sb == 1:
			a, b = a[:len(c)], b[:len(c)]
			for i := range c {
				c[i] = a[i] / b[i]
			}
		case sa == 1 && sb == 0:
			a, v := a[:len(c)], b[0]
			for i := range c {
				c[i] = a[i] / v
			}
		default:
			for i := range c {
				c[i] = a[i*sa] / b[i*sb]
			}
		}
	},
	backends.OpTypeMax: func(c, a, b []float32, sa, sb int) {
		for i := range c {
			c[i] = maxF(a[i*sa], b[i*sb])
		}
	},
	backends.OpTypeMin: func(c, a, b []float32, sa, sb int) {
		for i := range c {
			c[i] = minF(a[i*sa], b[i*sb])
		}
	},
}

// maxF and minF are simplego's Max and Min: the plain comparison, NaN-unaware.
func maxF(x, y float32) float32 {
	if x > y {
		return x
	}
	return y
}

func minF(x, y float32) float32 {
	if x < y {
		return x
	}
	return y
}

// execTranspose copies a float32 operand into its permuted order, one output run at a time.
func execTranspose(be unsafe.Pointer, n *node, inputs []*buffer, owned []bool) (*buffer, error) {
	in := inputs[0]
	perm, ok := n.data.([]int)
	if !ok || !isFloat32(in) {
		return original[n.opType](be, n, inputs, owned)
	}
	inStrides := rowMajor(in.shape.Dimensions)
	s := make([]int, len(perm))
	for outAxis, inAxis := range perm {
		s[outAxis] = inStrides[inAxis]
	}
	return gather(be, n, in.flat.([]float32), s), nil
}

// execBroadcastInDim repeats a float32 operand along the output axes it does not map to.
func execBroadcastInDim(be unsafe.Pointer, n *node, inputs []*buffer, owned []bool) (*buffer, error) {
	in := inputs[0]
	axes, ok := n.data.([]int)
	if !ok || !isFloat32(in) || len(axes) != in.shape.Rank() {
		return original[n.opType](be, n, inputs, owned)
	}
	inStrides := rowMajor(in.shape.Dimensions)
	s := make([]int, n.shape.Rank())
	for inAxis, outAxis := range axes {
		if in.shape.Dimensions[inAxis] == n.shape.Dimensions[outAxis] {
			s[outAxis] = inStrides[inAxis]
		}
	}
	return gather(be, n, in.flat.([]float32), s), nil
}

// gather fills a new output of n's shape with src read at strides s.
func gather(be unsafe.Pointer, n *node, src []float32, s []int) *buffer {
	out := getBufferForShape(be, n.shape)
	c := out.flat.([]float32)
	newWalk(n.shape.Dimensions, s).runParallel(be, func(off []int, cnt int, inner []int, pos *int) {
		dst, from, st := c[*pos:*pos+cnt], src[off[0]:], inner[0]
		switch st {
		case 1:
			copy(dst, from[:cnt])
		case 0:
			v := from[0]
			for i := range dst {
				dst[i] = v
			}
		default:
			for i := range dst {
				dst[i] = from[i*st]
			}
		}
		*pos += cnt
	})
	return out
}

// execReduce runs float32 ReduceSum and ReduceMax: the operand is walked in order and each
// run accumulates into the output at strides that are 0 along the reduced axes.
func execReduce(be unsafe.Pointer, n *node, inputs []*buffer, owned []bool) (*buffer, error) {
	in := inputs[0]
	axes, ok := n.data.([]int)
	if !ok || !isFloat32(in) || len(axes) == 0 {
		return original[n.opType](be, n, inputs, owned)
	}
	reduced := make([]bool, in.shape.Rank())
	for _, a := range axes {
		reduced[a] = true
	}
	// Output strides over the operand's axes: the kept axes in order, row-major.
	os := make([]int, in.shape.Rank())
	stride := 1
	for a := in.shape.Rank() - 1; a >= 0; a-- {
		if !reduced[a] {
			os[a] = stride
			stride *= in.shape.Dimensions[a]
		}
	}
	out := getBufferForShape(be, n.shape)
	c := out.flat.([]float32)
	isMax := n.opType == backends.OpTypeReduceMax
	init := float32(0)
	if isMax {
		init = float32(math.Inf(-1))
	}
	for i := range c {
		c[i] = init
	}
	src := in.flat.([]float32)
	pos := 0
	newWalk(in.shape.Dimensions, os).run(func(off []int, cnt int, inner []int) {
		x := src[pos : pos+cnt]
		pos += cnt
		o := off[0]
		if inner[0] == 0 { // the run is reduced into one output
			acc := c[o]
			if isMax {
				for _, v := range x {
					acc = maxF(acc, v)
				}
			} else {
				for _, v := range x {
					acc += v
				}
			}
			c[o] = acc
			return
		}
		dst := c[o:]
		st := inner[0]
		if isMax {
			for i, v := range x {
				dst[i*st] = maxF(dst[i*st], v)
			}
		} else {
			for i, v := range x {
				dst[i*st] += v
			}
		}
	})
	return out, nil
}
