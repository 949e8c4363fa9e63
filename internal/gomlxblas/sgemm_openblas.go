//go:build cgo && !noblas

package gomlxblas

/*
#cgo LDFLAGS: -lopenblas
#include <stdlib.h>
#include <string.h>

// Declared here rather than through cblas.h, whose folder differs between OpenBLAS
// variants (Debian: openblas-serial, openblas-pthread, openblas-openmp).
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
void openblas_set_num_threads(int n);
int openblas_get_parallel(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);
// Only in builds with DYNAMIC_ARCH (Debian's are).
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

// charis_fix_core re-selects OpenBLAS's kernels when its CPU detection fell back to a
// generic core on a CPU with AVX-512 or AVX2 (OpenBLAS 0.3.21 does not know every model a
// virtual machine reports, and then runs SSE3 kernels at a fifth of the speed). A user's
// OPENBLAS_CORETYPE is left alone. Returns the core chosen, or NULL.
static const char *charis_fix_core(void) {
	if (getenv("OPENBLAS_CORETYPE") != NULL || gotoblas_dynamic_init == NULL || gotoblas_dynamic_quit == NULL) {
		return NULL;
	}
	const char *core = openblas_get_corename();
	if (strcmp(core, "Prescott") != 0 && strcmp(core, "Core2") != 0 && strcmp(core, "Nehalem") != 0 &&
	    strcmp(core, "Penryn") != 0 && strcmp(core, "Dunnington") != 0 && strcmp(core, "Sandybridge") != 0) {
		return NULL;
	}
	__builtin_cpu_init();
	const char *want = NULL;
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
		want = "SkylakeX";
	} else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
		want = "Haswell";
	}
	if (want == NULL) {
		return NULL;
	}
	setenv("OPENBLAS_CORETYPE", want, 1);
	gotoblas_dynamic_quit();
	gotoblas_dynamic_init();
	unsetenv("OPENBLAS_CORETYPE");
	return want;
}
*/
import "C"

import (
	"sync"
	"unsafe"
)

// Kernel names the matrix-product kernel of this build.
var Kernel string

// serialOnly is set for OpenBLAS's sequential build (Debian's openblas-serial): it keeps
// shared buffers without locks, so sgemm called from two threads at once returns wrong
// products now and then (measured: 20,736 of 800,000 6×4·4×5 products wrong with 4 threads).
// Its calls then go one at a time, under sgemmMu. The pthreads build locks them itself.
var (
	serialOnly bool
	sgemmMu    sync.Mutex
)

func init() {
	// Threads come from simplego's worker pool; a threaded OpenBLAS would oversubscribe.
	C.openblas_set_num_threads(1)
	serialOnly = C.openblas_get_parallel() == 0
	forced := C.charis_fix_core()
	Kernel = C.GoString(C.openblas_get_config()) + ", single-threaded sgemm"
	if serialOnly {
		Kernel += " (sequential OpenBLAS build, not safe to call from several threads: calls serialized; libopenblas0-pthread runs them in parallel)"
	}
	if forced != nil {
		Kernel += " (core chosen from the CPU's features: OpenBLAS's detection fell back to a generic one)"
	}
}

const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// sgemm computes c = op(a)·op(b), row-major, c of m×n, with op(x) = xᵀ where trans is set.
func sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ta, tb := C.int(cblasNoTrans), C.int(cblasNoTrans)
	if transA {
		ta = cblasTrans
	}
	if transB {
		tb = cblasTrans
	}
	if serialOnly {
		sgemmMu.Lock()
		defer sgemmMu.Unlock()
	}
	C.cblas_sgemm(cblasRowMajor, ta, tb, C.int(m), C.int(n), C.int(k), 1,
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda), (*C.float)(unsafe.Pointer(&b[0])), C.int(ldb),
		0, (*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}
