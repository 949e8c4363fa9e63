package encoder

import (
	"os"
	"strings"
	"testing"

	"github.com/gomlx/onnx-gomlx/onnx"
)

// TestLoweringMatchesONNXRuntime runs graphs of the ops lowering rewrites, in each variant
// it handles (tools/fixtures/make_lowering_models.py), through both engines: negative
// remainders under both sign rules, ties for ArgMax's first and last index, keepdims, and
// Sigmoid far into both tails must come out as ONNX Runtime computes them.
func TestLoweringMatchesONNXRuntime(t *testing.T) {
	ort := openRuntime(t, Options{BatchSize: 4})
	gx, err := Open(Options{Engine: GoMLX, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	ints := []int64{ // 3 rows of 7, ties included
		-7, -5, 4, 4, 0, 9, 9,
		5, -3, -4, 3, 8, -8, 1,
		2, 2, 2, 2, 2, 2, 2,
	}
	floats := []float32{-100, -2.5, 0, 3.75, 100, 1, -1, 4, 4, -4.5}
	for _, c := range []struct {
		file string
		in   *batch
	}{
		{"lower_int.onnx", &batch{shape: []int64{3, 7}, i64: ints}},
		{"lower_float.onnx", &batch{shape: []int64{2, 5}, f32: floats}},
	} {
		path := "testdata/" + c.file
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ort.loadORT(path, "x", "y")
		if err != nil {
			t.Fatal(err)
		}
		defer a.close()
		b, err := gx.loadGoMLX(data, "x", "y")
		if err != nil {
			t.Fatal(err)
		}
		defer b.close()
		sa, da, errA := a.run(c.in, nil)
		sb, db, errB := b.run(c.in, nil)
		if errA != nil || errB != nil {
			t.Fatalf("%s: onnxruntime: %v; gomlx: %v", c.file, errA, errB)
		}
		if len(sa) != len(sb) || sa[0] != sb[0] || sa[1] != sb[1] {
			t.Fatalf("%s: shapes %v and %v", c.file, sa, sb)
		}
		if d := maxAbsDiff(da, db); d > 1e-6 {
			t.Errorf("%s: gomlx differs from onnxruntime by %g\nonnxruntime %v\ngomlx       %v", c.file, d, da, db)
		}
	}
}

// TestLoweringNeedsDeclaredLength: ArgMax over an axis the graph gives no length (the batch)
// cannot be lowered, and the error names the node.
func TestLoweringNeedsDeclaredLength(t *testing.T) {
	m, err := onnx.ReadFile("testdata/lower_int.onnx")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Proto.Graph.Node {
		if n.OpType == "ArgMax" {
			for _, a := range n.Attribute {
				if a.Name == "axis" {
					a.I = 0
				}
			}
		}
	}
	if _, err := lowerOps(m); err == nil || !strings.Contains(err.Error(), "ArgMax") || !strings.Contains(err.Error(), "length") {
		t.Fatalf("lowering an ArgMax over the batch axis: %v", err)
	}
}
