package encoder

import (
	"bytes"
	"fmt"
	"slices"
	"sync"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/onnx-gomlx/onnx"

	"github.com/charisbench/charisbench/internal/gomlxbackend"
)

// gomlxEngine runs an ONNX graph converted by onnx-gomlx on a GoMLX backend: the pure-Go
// one on the CPU, XLA on a GPU. GoMLX compiles a graph per input shape, so batches are
// padded up to a bucket size (see buckets): an encoder compiles at most len(buckets) times
// per input size.
type gomlxEngine struct {
	mu      sync.Mutex // one batch at a time: the backend parallelises inside it
	ctx     *context.Context
	exec    *context.Exec
	buckets []int
}

// loadGoMLX converts the model's ONNX bytes (lowering the ops onnx-gomlx lacks) into a GoMLX
// graph from input in to output out, with the weights as the graph's variables.
func (rt *Runtime) loadGoMLX(data []byte, in, out string) (*gomlxEngine, error) {
	model, err := onnx.Parse(data)
	if err != nil {
		return nil, err
	}
	n, err := lowerOps(model)
	if err != nil {
		return nil, fmt.Errorf("lowering for onnx-gomlx: %w", err)
	}
	if n > 0 { // Parse indexes the nodes: re-read the rewritten graph
		var buf bytes.Buffer
		if err := model.Write(&buf); err != nil {
			return nil, err
		}
		if model, err = onnx.Parse(buf.Bytes()); err != nil {
			return nil, err
		}
	}
	ctx := context.New()
	if err := model.VariablesToContext(ctx); err != nil {
		return nil, err
	}
	exec, err := context.NewExec(rt.backend, ctx, func(ctx *context.Context, x *graph.Node) *graph.Node {
		return model.CallGraph(ctx, x.Graph(), map[string]*graph.Node{in: x}, out)[0]
	})
	if err != nil {
		return nil, err
	}
	return &gomlxEngine{ctx: ctx, exec: exec, buckets: buckets(rt.opt.BatchSize)}, nil
}

// buckets are the batch sizes an encoder is compiled for: the powers of two below the
// batch size, and the batch size.
func buckets(size int) []int {
	var b []int
	for p := 1; p < size; p *= 2 {
		b = append(b, p)
	}
	return append(b, size)
}

func (e *gomlxEngine) run(b *batch, dst []float32) ([]int64, []float32, error) {
	n := int(b.shape[0])
	i, _ := slices.BinarySearch(e.buckets, n)
	if i == len(e.buckets) {
		return nil, nil, fmt.Errorf("batch of %d rows, more than the batch size %d", n, e.buckets[len(e.buckets)-1])
	}
	p := e.buckets[i]
	dims := make([]int, len(b.shape))
	for i, d := range b.shape {
		dims[i] = int(d)
	}
	dims[0] = p
	var x *tensors.Tensor
	switch { // rows past n are zeros: padding, dropped from the output
	case b.i64 != nil:
		x = tensors.FromFlatDataAndDimensions(pad(b.i64, n, p), dims...)
	case b.i32 != nil:
		x = tensors.FromFlatDataAndDimensions(pad(b.i32, n, p), dims...)
	default:
		x = tensors.FromFlatDataAndDimensions(pad(b.f32, n, p), dims...)
	}
	defer x.FinalizeAll()
	var y *tensors.Tensor
	e.mu.Lock()
	err := gomlxbackend.Catch(func() {
		var err error
		if y, err = e.exec.Exec1(x); err != nil {
			panic(err)
		}
	})
	e.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	defer y.FinalizeAll()
	if y.DType() != dtypes.Float32 {
		return nil, nil, fmt.Errorf("the output is %s, want float32", y.DType())
	}
	od := y.Shape().Dimensions
	if len(od) == 0 || od[0] != p {
		return nil, nil, fmt.Errorf("the output has shape %v for a batch of %d", od, p)
	}
	data, err := tensors.CopyFlatData[float32](y)
	if err != nil {
		return nil, nil, err
	}
	shape := make([]int64, len(od))
	for i, d := range od {
		shape[i] = int64(d)
	}
	shape[0] = int64(n)
	if dst == nil {
		return shape, data[:len(data)/p*n], nil
	}
	return shape, append(dst, data[:len(data)/p*n]...), nil
}

// pad extends rows [0, n) of flat data to p rows of zeros.
func pad[T float32 | int32 | int64](flat []T, n, p int) []T {
	if p == n {
		return flat
	}
	return append(slices.Clip(flat), make([]T, len(flat)/n*(p-n))...)
}

// terminate is a no-op: a GoMLX execution cannot be stopped midway; Session fails the next
// batch.
func (e *gomlxEngine) terminate() {}

// close frees the compiled graphs and the weights (on the device, for XLA).
func (e *gomlxEngine) close() error {
	e.exec.Finalize()
	e.ctx.Finalize()
	return nil
}
