//go:build amd64

package preprocess

import "golang.org/x/sys/cpu"

// useAVX2 makes the resampling passes run their multiply-adds eight int32 lanes at a time.
// The products and sums are the scalar passes' (int32, exact), so the bytes are the same;
// TestAVX2LikeScalar compares the two.
var useAVX2 = cpu.X86.HasAVX2

// hrow writes n outputs of one row of the horizontal pass: output i is the sum of the
// plan[2i+1] 8-byte loads from src+plan[2i] (two RGBA pixels or eight gray ones each)
// times the 8 weights a load at kk+i·stride bytes, plus half, clip8'd per band, at
// dst+bands·i; RGBA's alpha is set opaque. bands is 4 or 1.
//
//go:noescape
func hrow(dst, src *uint8, plan *int, kk *int32, stride, n, bands int)

// mulAdd8 adds src[i]·k to acc[i] for i < n (a multiple of 8).
//
//go:noescape
func mulAdd8(acc *int32, src *uint8, n int, k int32)

// hplan lays a horizontal pass out for the AVX2 rows: each output's first source byte and
// number of 8-byte loads, and its weights padded with zeros to whole loads (each repeated
// for the four bands of RGBA). An output whose padded loads would run past the row's end
// starts earlier, its weights behind as many zeros: the sums gain only zero products.
type hplan struct {
	plan   []int
	kk     []int32
	stride int // bytes between outputs' weights
}

// newHPlan returns false when a source row is shorter than the widest output's loads.
func newHPlan(c coeffs, srcW, bands int) (hplan, bool) {
	per := 8 / bands // taps a load
	loads := (c.ksize + per - 1) / per
	if loads*per > srcW {
		return hplan{}, false
	}
	out := len(c.bounds) / 2
	p := hplan{plan: make([]int, 2*out), kk: make([]int32, out*loads*8), stride: loads * 8 * 4}
	for xx := 0; xx < out; xx++ {
		xmin, n := c.bounds[2*xx], c.bounds[2*xx+1]
		m := max(1, (n+per-1)/per)
		start := min(xmin, srcW-m*per)
		k := p.kk[xx*loads*8:][:loads*8]
		for x, kx := range c.kk[xx*c.ksize : xx*c.ksize+n] {
			for b := range bands {
				k[(xmin-start+x)*bands+b] = kx
			}
		}
		p.plan[2*xx], p.plan[2*xx+1] = start*bands, m
	}
	return p, true
}

// resampleHorizontalAVX2 is resampleHorizontal on AVX2; false where it does not apply.
func resampleHorizontalAVX2(dst, src plane, rowOff int, c coeffs) bool {
	if !useAVX2 || (src.bands != 1 && src.bands != 4) {
		return false
	}
	p, ok := newHPlan(c, src.rect.Dx(), src.bands)
	if !ok {
		return false
	}
	w := dst.rect.Dx()
	for y := 0; y < dst.rect.Dy(); y++ {
		sp, dp := src.row(rowOff+y), dst.row(y)
		hrow(&dp[0], &sp[0], &p.plan[0], &p.kk[0], p.stride, w, src.bands)
	}
	return true
}

// mulAdd adds src[i]·k to acc[i], the vertical pass's inner loop.
func mulAdd(acc []int32, src []uint8, k int32) {
	n := 0
	if useAVX2 {
		if n = len(src) &^ 7; n > 0 {
			mulAdd8(&acc[0], &src[0], n, k)
		}
	}
	mulAddGo(acc[n:], src[n:], k)
}
