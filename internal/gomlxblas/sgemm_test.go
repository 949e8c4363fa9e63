package gomlxblas

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// TestSgemmConcurrent: sgemm called from several goroutines at once gives every product
// exactly as a lone call does (Debian's sequential OpenBLAS does not, unguarded: see
// serialOnly), for every kernel this package builds with.
func TestSgemmConcurrent(t *testing.T) {
	const m, n, k = 6, 5, 4
	r := rand.New(rand.NewPCG(1, 2))
	a, b := make([]float32, m*k), make([]float32, n*k)
	for i := range a {
		a[i] = r.Float32()*2 - 1
	}
	for i := range b {
		b[i] = r.Float32()*2 - 1
	}
	want := make([]float32, m*n)
	sgemm(false, true, m, n, k, a, k, b, k, want, n)
	var wg sync.WaitGroup
	bad := make([]int, 4)
	for g := range bad {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := make([]float32, m*n)
			for range 20000 {
				sgemm(false, true, m, n, k, a, k, b, k, c, n)
				for i := range c {
					if c[i] != want[i] {
						bad[g]++
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	if total := bad[0] + bad[1] + bad[2] + bad[3]; total > 0 {
		t.Fatalf("%d of 80000 concurrent products differ from a lone call's (kernel: %s)", total, Kernel)
	}
}
