// Package ssim computes the structural similarity index of two gray images exactly as
// scikit-image's structural_similarity does with gaussian_weights=True (its other
// settings at their defaults): a Gaussian window of σ = 1.5 truncated at 3.5σ (11 taps),
// scipy's "reflect" boundary, sample covariance (N/(N−1), N = 121), K1 = 0.01, K2 = 0.03,
// and the mean over the map with a 5-pixel border cropped.
//
// Reference: Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli, "Image quality
// assessment: from error visibility to structural similarity", IEEE TIP 13(4), 2004.
// Values are in [-1, 1]; 1 for identical images.
package ssim

import (
	"fmt"
	"math"
)

const (
	sigma    = 1.5
	truncate = 3.5
	k1, k2   = 0.01, 0.03
)

// radius is scipy's int(truncate·σ + 0.5) = 5: an 11-tap window.
var radius = int(math.Floor(truncate*sigma + 0.5))

var kernel = func() []float64 {
	k := make([]float64, 2*radius+1)
	sum := 0.0
	for i := range k {
		x := float64(i - radius)
		k[i] = math.Exp(-0.5 * x * x / (sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}()

// Gray is a w×h gray image, row-major, values in [0, dataRange].
type Gray struct {
	W, H int
	Pix  []float64
}

// SSIM returns the mean structural similarity of a and b for values spanning dataRange
// (255 for 8-bit images). Both sides must be at least 11 pixels and equal in size.
func SSIM(a, b Gray, dataRange float64) (float64, error) {
	if a.W != b.W || a.H != b.H {
		return 0, fmt.Errorf("ssim: sizes differ (%dx%d vs %dx%d)", a.W, a.H, b.W, b.H)
	}
	win := 2*radius + 1
	if a.W < win || a.H < win {
		return 0, fmt.Errorf("ssim: images must be at least %dx%d, got %dx%d", win, win, a.W, a.H)
	}
	n := a.W * a.H
	prod := func(f func(x, y float64) float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = f(a.Pix[i], b.Pix[i])
		}
		return out
	}
	ux := filter(a.Pix, a.W, a.H)
	uy := filter(b.Pix, a.W, a.H)
	uxx := filter(prod(func(x, _ float64) float64 { return x * x }), a.W, a.H)
	uyy := filter(prod(func(_, y float64) float64 { return y * y }), a.W, a.H)
	uxy := filter(prod(func(x, y float64) float64 { return x * y }), a.W, a.H)
	np := float64(win * win)
	covNorm := np / (np - 1)
	c1, c2 := (k1*dataRange)*(k1*dataRange), (k2*dataRange)*(k2*dataRange)
	sum, count := 0.0, 0
	for y := radius; y < a.H-radius; y++ {
		for x := radius; x < a.W-radius; x++ {
			i := y*a.W + x
			vx := covNorm * (uxx[i] - ux[i]*ux[i])
			vy := covNorm * (uyy[i] - uy[i]*uy[i])
			vxy := covNorm * (uxy[i] - ux[i]*uy[i])
			a1, a2 := 2*ux[i]*uy[i]+c1, 2*vxy+c2
			b1, b2 := ux[i]*ux[i]+uy[i]*uy[i]+c1, vx+vy+c2
			sum += (a1 * a2) / (b1 * b2)
			count++
		}
	}
	return sum / float64(count), nil
}

// filter is scipy.ndimage.gaussian_filter with mode "reflect": rows (axis 0) first, then
// columns (axis 1).
func filter(src []float64, w, h int) []float64 {
	tmp := make([]float64, len(src))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			acc := 0.0
			for k, kv := range kernel {
				acc += kv * src[reflect(y+k-radius, h)*w+x]
			}
			tmp[y*w+x] = acc
		}
	}
	out := make([]float64, len(src))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			acc := 0.0
			for k, kv := range kernel {
				acc += kv * tmp[y*w+reflect(x+k-radius, w)]
			}
			out[y*w+x] = acc
		}
	}
	return out
}

// reflect maps an index outside [0, n) by half-sample symmetric reflection
// (d c b a | a b c d | d c b a), scipy's "reflect".
func reflect(i, n int) int {
	period := 2 * n
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - 1 - i
	}
	return i
}
