package gomlxblas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// opCase builds one op on a simplego builder from parameters of the given shapes.
type opCase struct {
	name   string
	dtype  dtypes.DType
	inputs [][]int
	build  func(b backends.Builder, x []backends.Op) (backends.Op, error)
	// special fills the inputs with extreme values (Exp, Erf).
	special []float32
}

// run compiles c on a fresh backend, executes it with inputs, and returns the flat output.
func run(t *testing.T, c opCase, inputs []any) []float64 {
	t.Helper()
	be, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	b := be.Builder(c.name)
	params := make([]backends.Op, len(c.inputs))
	bufs := make([]backends.Buffer, len(c.inputs))
	for i, dims := range c.inputs {
		s := shapes.Make(c.dtype, dims...)
		if params[i], err = b.Parameter(fmt.Sprintf("x%d", i), s, nil); err != nil {
			t.Fatal(err)
		}
		if bufs[i], err = be.BufferFromFlatData(0, inputs[i], s); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.build(b, params)
	if err != nil {
		t.Fatal(err)
	}
	exec, err := b.Compile([]backends.Op{out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Donating the inputs exercises the executors' reuse of owned buffers.
	donate := make([]bool, len(bufs))
	for i := range donate {
		donate[i] = true
	}
	res, err := exec.Execute(bufs, donate, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := be.BufferShape(res[0])
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	switch c.dtype {
	case dtypes.Float32:
		got, err = readFlat[float32](be, res[0], s.Size())
	case dtypes.Int32:
		got, err = readFlat[int32](be, res[0], s.Size())
	}
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// readFlat copies a buffer of n values out as float64.
func readFlat[T float32 | int32](be backends.Backend, buf backends.Buffer, n int) ([]float64, error) {
	flat := make([]T, n)
	if err := be.BufferToFlatData(buf, flat); err != nil {
		return nil, err
	}
	out := make([]float64, n)
	for i, v := range flat {
		out[i] = float64(v)
	}
	return out, nil
}

func randomInputs(r *rand.Rand, c opCase) []any {
	in := make([]any, len(c.inputs))
	for i, dims := range c.inputs {
		n := shapes.Make(c.dtype, dims...).Size()
		switch c.dtype {
		case dtypes.Float32:
			x := make([]float32, n)
			for j := range x {
				if c.special != nil {
					x[j] = c.special[j%len(c.special)]
				} else {
					x[j] = float32(r.NormFloat64())
				}
			}
			in[i] = x
		case dtypes.Int32:
			x := make([]int32, n)
			for j := range x {
				x[j] = int32(r.IntN(100)) + 1
			}
			in[i] = x
		}
	}
	return in
}

// withOriginals runs fn with simplego's own executors in the table.
func withOriginals(fn func()) {
	saved := nodeExecutors
	for op := range replaced {
		nodeExecutors[op] = original[op]
	}
	defer func() { nodeExecutors = saved }()
	fn()
}

func dot(lc, lb, rc, rb []int) func(b backends.Builder, x []backends.Op) (backends.Op, error) {
	return func(b backends.Builder, x []backends.Op) (backends.Op, error) {
		return b.DotGeneral(x[0], lc, lb, x[1], rc, rb)
	}
}

func binary(op backends.OpType) func(b backends.Builder, x []backends.Op) (backends.Op, error) {
	return func(b backends.Builder, x []backends.Op) (backends.Op, error) {
		switch op {
		case backends.OpTypeAdd:
			return b.Add(x[0], x[1])
		case backends.OpTypeSub:
			return b.Sub(x[0], x[1])
		case backends.OpTypeMul:
			return b.Mul(x[0], x[1])
		case backends.OpTypeDiv:
			return b.Div(x[0], x[1])
		case backends.OpTypeMax:
			return b.Max(x[0], x[1])
		case backends.OpTypeMin:
			return b.Min(x[0], x[1])
		}
		return nil, fmt.Errorf("no binary op %s", op)
	}
}

func opCases() []opCase {
	f32 := dtypes.Float32
	cases := []opCase{
		{name: "matmul", dtype: f32, inputs: [][]int{{5, 7}, {7, 3}}, build: dot([]int{1}, nil, []int{0}, nil)},
		{name: "matmul-large", dtype: f32, inputs: [][]int{{130, 33}, {33, 65}}, build: dot([]int{1}, nil, []int{0}, nil)},
		{name: "lhs-transposed", dtype: f32, inputs: [][]int{{7, 5}, {7, 3}}, build: dot([]int{0}, nil, []int{0}, nil)},
		{name: "rhs-transposed", dtype: f32, inputs: [][]int{{5, 7}, {3, 7}}, build: dot([]int{1}, nil, []int{1}, nil)},
		{name: "batched-qk", dtype: f32, inputs: [][]int{{2, 3, 6, 4}, {2, 3, 5, 4}}, build: dot([]int{3}, []int{0, 1}, []int{3}, []int{0, 1})},
		{name: "batched-av", dtype: f32, inputs: [][]int{{2, 3, 6, 5}, {2, 3, 5, 4}}, build: dot([]int{3}, []int{0, 1}, []int{2}, []int{0, 1})},
		{name: "batch-rows-split", dtype: f32, inputs: [][]int{{1, 200, 9}, {1, 9, 11}}, build: dot([]int{2}, []int{0}, []int{1}, []int{0})},
		{name: "two-contracting", dtype: f32, inputs: [][]int{{4, 3, 5}, {3, 5, 2}}, build: dot([]int{1, 2}, nil, []int{0, 1}, nil)},
		{name: "vector-dot", dtype: f32, inputs: [][]int{{9}, {9}}, build: dot([]int{0}, nil, []int{0}, nil)},
		{name: "outer", dtype: f32, inputs: [][]int{{4}, {3}}, build: dot(nil, nil, nil, nil)},
		{name: "batch-not-leading-falls-back", dtype: f32, inputs: [][]int{{4, 2, 3}, {2, 3, 5}}, build: dot([]int{2}, []int{1}, []int{1}, []int{0})},
		{name: "contracting-reordered-falls-back", dtype: f32, inputs: [][]int{{4, 3, 5}, {5, 3, 2}}, build: dot([]int{2, 1}, nil, []int{0, 1}, nil)},
		{name: "add-large-parallel", dtype: f32, inputs: [][]int{{8, 152, 64}, {8, 1, 64}}, build: binary(backends.OpTypeAdd)},
		{name: "mul-large-parallel", dtype: f32, inputs: [][]int{{4, 4, 152, 152}, {4, 4, 152, 1}}, build: binary(backends.OpTypeMul)},
		{name: "exp-large-parallel", dtype: f32, inputs: [][]int{{70000}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.Exp(x[0])
		}},
		{name: "transpose-large-parallel", dtype: f32, inputs: [][]int{{8, 4, 152, 16}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.Transpose(x[0], 0, 2, 1, 3)
		}},
		{name: "transpose", dtype: f32, inputs: [][]int{{2, 3, 4, 5}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.Transpose(x[0], 0, 2, 1, 3)
		}},
		{name: "transpose-last", dtype: f32, inputs: [][]int{{6, 7}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.Transpose(x[0], 1, 0)
		}},
		{name: "broadcast-in-dim", dtype: f32, inputs: [][]int{{3, 1}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.BroadcastInDim(x[0], shapes.Make(f32, 2, 3, 4), []int{1, 2})
		}},
		{name: "broadcast-scalar", dtype: f32, inputs: [][]int{{}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.BroadcastInDim(x[0], shapes.Make(f32, 2, 3), nil)
		}},
		{name: "reduce-sum-last", dtype: f32, inputs: [][]int{{3, 4, 50}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.ReduceSum(x[0], 2)
		}},
		{name: "reduce-sum-first", dtype: f32, inputs: [][]int{{3, 4, 5}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.ReduceSum(x[0], 0, 1)
		}},
		{name: "reduce-sum-middle", dtype: f32, inputs: [][]int{{3, 4, 5}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.ReduceSum(x[0], 1)
		}},
		{name: "reduce-max-all", dtype: f32, inputs: [][]int{{3, 4, 5}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.ReduceMax(x[0], 0, 1, 2)
		}},
		{name: "reduce-max-last", dtype: f32, inputs: [][]int{{3, 4, 5}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.ReduceMax(x[0], 2)
		}},
		{name: "exp", dtype: f32, inputs: [][]int{{1000}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.Exp(x[0])
		}},
		{name: "exp-extremes", dtype: f32, inputs: [][]int{{12}}, special: []float32{-200, -103, -87.5, -87, -20, -1e-8, 0, 1e-8, 20, 87.9, 88.5, 100},
			build: func(b backends.Builder, x []backends.Op) (backends.Op, error) { return b.Exp(x[0]) }},
		{name: "erf", dtype: f32, inputs: [][]int{{1000}}, build: func(b backends.Builder, x []backends.Op) (backends.Op, error) {
			return b.Erf(x[0])
		}},
		{name: "erf-extremes", dtype: f32, inputs: [][]int{{12}}, special: []float32{-10, -4, -3.99, -0.5, -0.4999, -1e-6, 0, 1e-6, 0.5, 2, 4, 30},
			build: func(b backends.Builder, x []backends.Op) (backends.Op, error) { return b.Erf(x[0]) }},
		{name: "int32-add-falls-back", dtype: dtypes.Int32, inputs: [][]int{{3, 4}, {3, 4}}, build: binary(backends.OpTypeAdd)},
	}
	for _, op := range []backends.OpType{backends.OpTypeAdd, backends.OpTypeSub, backends.OpTypeMul,
		backends.OpTypeDiv, backends.OpTypeMax, backends.OpTypeMin} {
		for _, in := range [][][]int{
			{{2, 3, 4}, {2, 3, 4}},
			{{2, 3, 4}, {1, 3, 1}},
			{{1, 1, 4}, {2, 3, 4}},
			{{2, 3, 4}, {}},
			{{}, {2, 3, 4}},
			{{2, 1, 4}, {1, 3, 1}},
		} {
			cases = append(cases, opCase{name: fmt.Sprintf("%s%v", op, in), dtype: f32, inputs: in, build: binary(op)})
		}
	}
	return cases
}

// TestFastPathsMatchSimplego runs every op case with simplego's own executors and with this
// package's, on the same inputs, with one and with two threads.
func TestFastPathsMatchSimplego(t *testing.T) {
	if err := Install(); err != nil {
		t.Fatal(err)
	}
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		for _, c := range opCases() {
			t.Run(fmt.Sprintf("%s/procs=%d", c.name, procs), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(len(c.name)), 7))
				in := randomInputs(r, c)
				var want []float64
				withOriginals(func() { want = run(t, c, cloneAll(in)) })
				got := run(t, c, cloneAll(in))
				if len(got) != len(want) {
					t.Fatalf("%d values, simplego gives %d", len(got), len(want))
				}
				for i := range want {
					if !close32(got[i], want[i]) {
						t.Fatalf("value %d = %g, simplego gives %g (inputs %v)", i, got[i], want[i], c.inputs)
					}
				}
			})
		}
		runtime.GOMAXPROCS(prev)
	}
}

func cloneAll(in []any) []any {
	out := make([]any, len(in))
	for i, x := range in {
		switch v := x.(type) {
		case []float32:
			out[i] = append([]float32(nil), v...)
		case []int32:
			out[i] = append([]int32(nil), v...)
		}
	}
	return out
}

// close32 allows the float32 rounding of a differently ordered sum: 4 ulps of the larger
// magnitude plus 1e-5 absolute (sums of ~50 unit-variance products cancel to small values).
func close32(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= 1e-5+4*float64(math.Nextafter32(float32(max(math.Abs(a), math.Abs(b))), float32(math.Inf(1))))-4*max(math.Abs(a), math.Abs(b))
}

// TestExpErfAccuracy sweeps the float32 kernels against float64 math over their range.
func TestExpErfAccuracy(t *testing.T) {
	var worstExp, worstErf float64
	for x := float32(-90); x < 90; x += 0.0013 {
		want := math.Exp(float64(x))
		if want > math.MaxFloat32 {
			continue
		}
		if want > 1e-37 {
			worstExp = max(worstExp, math.Abs(float64(expf(x))-want)/want)
		}
		if x > -6 && x < 6 {
			w := math.Erf(float64(x))
			worstErf = max(worstErf, math.Abs(float64(erff(x))-w)/max(math.Abs(w), 1e-30))
		}
	}
	if worstExp > 3e-7 {
		t.Errorf("expf: worst relative error %.2g, want ≤ 3e-7", worstExp)
	}
	if worstErf > 1e-6 {
		t.Errorf("erff: worst relative error %.2g, want ≤ 1e-6", worstErf)
	}
	t.Logf("worst relative error: expf %.2g, erff %.2g", worstExp, worstErf)
}
