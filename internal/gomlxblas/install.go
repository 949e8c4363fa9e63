package gomlxblas

import (
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// The mirrors of simplego's structs this package reads; checkLayouts compares them, field
// by field, with the real ones before anything is installed.

// node mirrors simplego.Node.
type node struct {
	builderIdx         int
	inputs             []*node
	opType             backends.OpType
	shape              shapes.Shape
	builder            *struct{}
	multiOutputsShapes []shapes.Shape
	multiOutputsNodes  []*node
	isNodeSelectOutput bool
	selectOutputIdx    int
	data               any
}

// buffer mirrors simplego.Buffer.
type buffer struct {
	shape shapes.Shape
	valid bool
	flat  any
}

// dotData mirrors simplego.dotGeneralNodeData.
type dotData struct {
	lhsContractingAxes, lhsBatchAxes                       []int
	rhsContractingAxes, rhsBatchAxes                       []int
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int
	lhsBlockedShape, rhsBlockedShape, outputBlockedShape   shapes.Shape
}

// executor has simplego.nodeExecutor's signature; the backend stays opaque.
type executor func(be unsafe.Pointer, n *node, inputs []*buffer, owned []bool) (*buffer, error)

//go:linkname nodeExecutors github.com/gomlx/gomlx/backends/simplego.nodeExecutors
var nodeExecutors [backends.OpTypeLast]executor

//go:linkname getBufferForShape github.com/gomlx/gomlx/backends/simplego.(*Backend).getBufferForShape
func getBufferForShape(be unsafe.Pointer, shape shapes.Shape) *buffer

//go:linkname waitToStart github.com/gomlx/gomlx/backends/simplego.(*workersPool).WaitToStart
func waitToStart(pool unsafe.Pointer, task func())

// dotDataType is the type of a DotGeneral node's data (*simplego.dotGeneralNodeData),
// found by checkLayouts.
var dotDataType reflect.Type

// workersOffset is the offset of simplego.Backend's worker pool, found by checkLayouts.
var workersOffset uintptr

// original holds simplego's executors of the ops Install replaces: every case the fast
// paths do not cover goes to them.
var original [backends.OpTypeLast]executor

// replaced are the executors Install sets.
var replaced = map[backends.OpType]executor{
	backends.OpTypeDotGeneral:     execDotGeneral,
	backends.OpTypeAdd:            execBinary,
	backends.OpTypeSub:            execBinary,
	backends.OpTypeMul:            execBinary,
	backends.OpTypeDiv:            execBinary,
	backends.OpTypeMax:            execBinary,
	backends.OpTypeMin:            execBinary,
	backends.OpTypeTranspose:      execTranspose,
	backends.OpTypeBroadcastInDim: execBroadcastInDim,
	backends.OpTypeReduceSum:      execReduce,
	backends.OpTypeReduceMax:      execReduce,
	backends.OpTypeExp:            execExp,
	backends.OpTypeErf:            execErf,
}

var (
	installOnce sync.Once
	installErr  error
)

// Install replaces simplego's float32 executors of the ops listed in the package
// documentation, once per process, for every simplego backend. It returns why it did not
// (a gomlx whose internals differ from v0.26.0's); the backend then keeps its own kernels.
func Install() error {
	installOnce.Do(func() {
		if installErr = checkLayouts(); installErr != nil {
			installErr = fmt.Errorf("gomlxblas: not installed, simplego keeps its own kernels: %w", installErr)
			return
		}
		for op, ex := range replaced {
			original[op] = nodeExecutors[op]
			nodeExecutors[op] = ex
		}
	})
	return installErr
}

// checkLayouts compares the mirrors with simplego's structs (names, offsets, sizes and
// kinds of every field), checks that the linked table holds simplego's own executors, and
// that the ops' data have the types the executors read.
func checkLayouts() error {
	be, err := simplego.New("")
	if err != nil {
		return err
	}
	defer be.Finalize()
	// Of simplego.Backend only the worker pool is used (through its own method).
	f, ok := reflect.TypeOf(be).Elem().FieldByName("workers")
	if !ok || f.Type.Kind() != reflect.Struct || f.Type.Name() != "workersPool" {
		return fmt.Errorf("simplego.Backend has no workersPool field named workers")
	}
	workersOffset = f.Offset

	buf, err := be.BufferFromFlatData(0, []float32{1, 2}, shapes.Make(dtypes.Float32, 2))
	if err != nil {
		return err
	}
	if err := sameLayout(reflect.TypeOf(buf).Elem(), reflect.TypeOf(buffer{})); err != nil {
		return err
	}

	b := be.Builder("gomlxblas-layout")
	x, err := b.Parameter("x", shapes.Make(dtypes.Float32, 2, 3), nil)
	if err != nil {
		return err
	}
	if err := sameLayout(reflect.TypeOf(x).Elem(), reflect.TypeOf(node{})); err != nil {
		return err
	}
	dot, err := b.DotGeneral(x, []int{1}, nil, x, []int{1}, nil)
	if err != nil {
		return err
	}
	dg := asNode(dot)
	if dg.opType != backends.OpTypeDotGeneral && len(dg.inputs) == 1 {
		dg = dg.inputs[0] // DotGeneral is followed by a Reshape
	}
	if dg.opType != backends.OpTypeDotGeneral {
		return fmt.Errorf("DotGeneral builds a %s node", dg.opType)
	}
	dotDataType = reflect.TypeOf(dg.data)
	if dotDataType.Kind() != reflect.Pointer {
		return fmt.Errorf("DotGeneral keeps its parameters as %s, not a pointer", dotDataType)
	}
	if err := sameLayout(dotDataType.Elem(), reflect.TypeOf(dotData{})); err != nil {
		return err
	}
	for _, build := range []func() (backends.Op, error){
		func() (backends.Op, error) { return b.Transpose(x, 1, 0) },
		func() (backends.Op, error) {
			return b.BroadcastInDim(x, shapes.Make(dtypes.Float32, 4, 2, 3), []int{1, 2})
		},
		func() (backends.Op, error) { return b.ReduceSum(x, 1) },
	} {
		op, err := build()
		if err != nil {
			return err
		}
		if n := asNode(op); reflect.TypeOf(n.data) != reflect.TypeOf([]int(nil)) {
			return fmt.Errorf("%s keeps its axes as %T, not []int", n.opType, n.data)
		}
	}
	for op := range replaced {
		fn := nodeExecutors[op]
		if fn == nil {
			return fmt.Errorf("no simplego executor for %s", op)
		}
		name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
		if len(name) < len(simplegoPkg) || name[:len(simplegoPkg)] != simplegoPkg {
			return fmt.Errorf("the executor table's %s entry is %s, not simplego's", op, name)
		}
	}
	return nil
}

const simplegoPkg = "github.com/gomlx/gomlx/backends/simplego."

func asNode(op backends.Op) *node {
	return (*node)(reflect.ValueOf(op).UnsafePointer())
}

// sameLayout checks that mirror's fields sit in theirs at the same offsets with the same
// names, sizes and kinds; types outside simplego must be identical.
func sameLayout(theirs, mirror reflect.Type) error {
	if theirs.NumField() != mirror.NumField() || theirs.Size() != mirror.Size() {
		return fmt.Errorf("simplego.%s has %d fields in %d bytes, want %d in %d", theirs.Name(),
			theirs.NumField(), theirs.Size(), mirror.NumField(), mirror.Size())
	}
	for i := range mirror.NumField() {
		t, m := theirs.Field(i), mirror.Field(i)
		if t.Name != m.Name || t.Offset != m.Offset || t.Type.Size() != m.Type.Size() || t.Type.Kind() != m.Type.Kind() {
			return fmt.Errorf("simplego.%s field %d is %s %s at %d, want %s %s at %d", theirs.Name(), i,
				t.Name, t.Type, t.Offset, m.Name, m.Type, m.Offset)
		}
		if fromSimplego(t.Type) {
			continue
		}
		if t.Type != m.Type && m.Type.Kind() != reflect.UnsafePointer {
			return fmt.Errorf("simplego.%s.%s is %s, want %s", theirs.Name(), t.Name, t.Type, m.Type)
		}
	}
	return nil
}

// fromSimplego reports whether t is, or points to or holds, a type of simplego's.
func fromSimplego(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t.PkgPath() == "github.com/gomlx/gomlx/backends/simplego"
}

// parallelRange splits [0, n) into ranges run concurrently when n is large enough.
func parallelRange(be unsafe.Pointer, n int, fn func(lo, hi int)) {
	parts := min(runtime.GOMAXPROCS(0), n/parallelMin)
	if parts <= 1 {
		fn(0, n)
		return
	}
	parallel(be, parts, func(i int) { fn(i*n/parts, (i+1)*n/parts) })
}

// parallel runs task(0..n-1) on simplego's worker pool and waits; inline with one thread.
func parallel(be unsafe.Pointer, n int, task func(i int)) {
	if n <= 1 || runtime.GOMAXPROCS(0) == 1 {
		for i := range n {
			task(i)
		}
		return
	}
	pool := unsafe.Add(be, workersOffset)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		waitToStart(pool, func() {
			defer wg.Done()
			task(i)
		})
	}
	wg.Wait()
}
