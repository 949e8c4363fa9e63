package gomlxblas

import (
	"reflect"
	"runtime"
	"unsafe"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// operandLayout is how a DotGeneral operand reads as a row-major matrix per batch item:
// [batch…, cross…, contracting…] (trans false) or [batch…, contracting…, cross…] (true).
func operandLayout(rank int, contracting, batch []int) (trans, ok bool) {
	for i, a := range batch {
		if a != i {
			return false, false
		}
	}
	if len(contracting) == 0 {
		return false, true
	}
	for i := 1; i < len(contracting); i++ {
		if contracting[i] != contracting[i-1]+1 {
			return false, false
		}
	}
	first, last := contracting[0], contracting[len(contracting)-1]
	switch {
	case last == rank-1: // cross axes sit between the batch and the contracting ones
		return false, true
	case first == len(batch): // contracting right after the batch axes
		return true, true
	}
	return false, false
}

// execDotGeneral runs a float32 DotGeneral whose operands read as matrices (see
// operandLayout) as one sgemm per batch item; any other goes to simplego's executor.
func execDotGeneral(be unsafe.Pointer, n *node, inputs []*buffer, owned []bool) (*buffer, error) {
	lhs, rhs := inputs[0], inputs[1]
	if reflect.TypeOf(n.data) != dotDataType || lhs.shape.DType != dtypes.Float32 || rhs.shape.DType != dtypes.Float32 {
		return original[n.opType](be, n, inputs, owned)
	}
	p := (*dotData)(reflect.ValueOf(n.data).UnsafePointer())
	transA, okA := operandLayout(lhs.shape.Rank(), p.lhsContractingAxes, p.lhsBatchAxes)
	rhsContractingFirst, okB := operandLayout(rhs.shape.Rank(), p.rhsContractingAxes, p.rhsBatchAxes)
	if !okA || !okB {
		return original[n.opType](be, n, inputs, owned)
	}
	m, nn, k := p.lhsCrossSize, p.rhsCrossSize, p.contractingSize
	lda := k
	if transA {
		lda = m
	}
	// rhs as [N, K] needs a transpose to be op(B) of K×N; as [K, N] it is op(B) itself.
	transB := !rhsContractingFirst
	ldb := nn
	if transB {
		ldb = k
	}
	a, b := lhs.flat.([]float32), rhs.flat.([]float32)
	out := getBufferForShape(be, n.shape)
	c := out.flat.([]float32)
	// Work split over batch items, and over row blocks of one item when the batch is small.
	parts := 1
	if p.batchSize < 4 && m >= 64 && runtime.GOMAXPROCS(0) > 1 {
		parts = min(4, m/32)
	}
	parallel(be, p.batchSize*parts, func(i int) {
		item, part := i/parts, i%parts
		r0, r1 := part*m/parts, (part+1)*m/parts
		if r0 == r1 {
			return
		}
		ai := a[item*m*k:]
		if transA {
			ai = ai[r0:] // column offset within each row of the K×M item
		} else {
			ai = ai[r0*k:]
		}
		sgemm(transA, transB, r1-r0, nn, k, ai, lda, b[item*nn*k:], ldb, c[item*m*nn+r0*nn:], nn)
	})
	return out, nil
}
