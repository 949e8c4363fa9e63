//go:build !cgo || noblas

package gomlxblas

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Kernel names the matrix-product kernel of this build.
const Kernel = "gonum pure-Go Sgemm (built without OpenBLAS: several times slower; install libopenblas-dev and build without -tags noblas)"

// sgemm computes c = op(a)·op(b), row-major, c of m×n, with op(x) = xᵀ where trans is set.
func sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	gonum.Implementation{}.Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
}
