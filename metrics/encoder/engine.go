package encoder

import (
	"fmt"
	"slices"

	ort "github.com/yalue/onnxruntime_go"
)

// batch is one encoder input, [N, ...]: float32 pixels or int32/int64 token ids.
type batch struct {
	shape []int64
	f32   []float32
	i32   []int32
	i64   []int64
}

// engine runs one encoder's graph: it feeds the selected input and appends the selected
// output to dst (the rows of the batches before; nil for the first), copied once out of the
// engine's memory. ONNX Runtime and GoMLX implement it; the Session around it does
// everything else (signature checks, preprocessing, batching, NaN checks).
type engine interface {
	run(b *batch, dst []float32) (shape []int64, data []float32, err error)
	// terminate makes the run in flight fail where the engine can stop one midway, and
	// every later run; Session checks its own flag between batches either way.
	terminate()
	close() error
}

// ortEngine is an ONNX Runtime session.
type ortEngine struct {
	sess *ort.DynamicAdvancedSession
	opts *ort.RunOptions // terminate sets its flag
}

// loadORT creates the ONNX Runtime session of the model at path. ONNX Runtime reads the
// file itself: the model's bytes are not also held in Go's heap.
func (rt *Runtime) loadORT(path, in, out string) (*ortEngine, error) {
	so, err := rt.sessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	sess, err := ort.NewDynamicAdvancedSession(path, []string{in}, []string{out}, so)
	if err != nil {
		return nil, err
	}
	opts, err := ort.NewRunOptions()
	if err != nil {
		sess.Destroy()
		return nil, err
	}
	return &ortEngine{sess: sess, opts: opts}, nil
}

func (e *ortEngine) run(b *batch, dst []float32) ([]int64, []float32, error) {
	var input ort.Value
	var err error
	shape := ort.NewShape(b.shape...)
	switch {
	case b.i64 != nil:
		input, err = ort.NewTensor(shape, b.i64)
	case b.i32 != nil:
		input, err = ort.NewTensor(shape, b.i32)
	default:
		input, err = ort.NewTensor(shape, b.f32)
	}
	if err != nil {
		return nil, nil, err
	}
	defer input.Destroy()
	outputs := []ort.Value{nil}
	if err := e.sess.RunWithOptions([]ort.Value{input}, outputs, e.opts); err != nil {
		return nil, nil, err
	}
	defer outputs[0].Destroy()
	t, ok := outputs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, nil, fmt.Errorf("the output is %T, want a float32 tensor", outputs[0])
	}
	return slices.Clone(t.GetShape()), append(dst, t.GetData()...), nil
}

func (e *ortEngine) terminate() { e.opts.Terminate() }

func (e *ortEngine) close() error {
	e.opts.Destroy()
	return e.sess.Destroy()
}
