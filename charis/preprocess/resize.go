// Package preprocess turns decoded images into encoder inputs exactly as Pillow and the
// Hugging Face / openai-CLIP processors do: resize (PIL's bicubic or bilinear on uint8),
// center crop (either rounding convention), rescale and normalize.
//
// It promises: Resize is byte-identical to PIL.Image.resize(size, resample) with no box and
// no reducing_gap (checked against golden fixtures made by Pillow), on amd64 with AVX2 as
// elsewhere (the passes' int32 multiply-adds run eight lanes at a time there, on the same
// sums); ShortSide computes the target size as HF and torchvision do; Tensor writes
// float32 CHW values (x·rescale − mean) / std.
package preprocess

import (
	"fmt"
	"image"
	"math"
)

// Interp is a resampling filter.
type Interp string

// The filters Pillow implements that CLIP/DINO processors use.
const (
	Bicubic  Interp = "bicubic"
	Bilinear Interp = "bilinear"
)

// filter is one of Pillow's separable resampling kernels (libImaging/Resample.c).
type filter struct {
	support float64
	weight  func(x float64) float64
}

// bicubicA is Pillow's cubic convolution parameter (Keys' a = −0.5).
const bicubicA = -0.5

var filters = map[Interp]filter{
	Bilinear: {support: 1, weight: func(x float64) float64 {
		x = math.Abs(x)
		if x < 1 {
			return 1 - x
		}
		return 0
	}},
	Bicubic: {support: 2, weight: func(x float64) float64 {
		x = math.Abs(x)
		if x < 1 {
			return ((bicubicA+2)*x-(bicubicA+3))*x*x + 1
		}
		if x < 2 {
			return (((x-5)*x+8)*x - 4) * bicubicA
		}
		return 0
	}},
}

// precisionBits is Pillow's fixed-point precision for 8-bit resampling (32 − 8 − 2).
const precisionBits = 32 - 8 - 2

// coeffs holds, for each output position, the first input index, the tap count and the
// fixed-point weights (Pillow's precompute_coeffs followed by normalize_coeffs_8bpc).
type coeffs struct {
	ksize  int
	bounds []int   // [2*out]: xmin, count
	kk     []int32 // [out*ksize]
}

func precompute(inSize, outSize int, f filter) coeffs {
	scale := float64(inSize) / float64(outSize)
	filterscale := math.Max(scale, 1)
	support := f.support * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := coeffs{ksize: ksize, bounds: make([]int, 2*outSize), kk: make([]int32, outSize*ksize)}
	w := make([]float64, ksize)
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		ss := 1 / filterscale
		xmin := max(int(center-support+0.5), 0) // int() truncates toward zero, like C's cast
		xmax := min(int(center+support+0.5), inSize) - xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w[x] = f.weight((float64(x+xmin) - center + 0.5) * ss)
			ww += w[x]
		}
		for x := 0; x < xmax; x++ {
			if ww != 0 {
				w[x] /= ww
			}
			k := w[x] * (1 << precisionBits)
			if k < 0 {
				c.kk[xx*ksize+x] = int32(-0.5 + k)
			} else {
				c.kk[xx*ksize+x] = int32(0.5 + k)
			}
		}
		c.bounds[2*xx], c.bounds[2*xx+1] = xmin, xmax
	}
	return c
}

// clip8 is Pillow's clip8: the fixed-point sum shifted back to 8 bits and clamped.
func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// Resize returns src resized to w×h, byte-identical to Pillow's Image.resize((w, h),
// resample) on an RGB image. Only RGB are resampled; alpha is set opaque.
func Resize(src *image.RGBA, w, h int, interp Interp) (*image.RGBA, error) {
	out, err := resize(plane{src.Pix, src.Stride, src.Rect, 4}, w, h, interp, image.Rect(0, 0, w, h))
	if err != nil {
		return nil, err
	}
	return &image.RGBA{Pix: out.pix, Stride: out.stride, Rect: out.rect}, nil
}

// ResizeGray is Resize for a one-band image, byte-identical to Pillow's resize of an "L"
// image: a third of the work of resizing a gray picture stored as RGB.
func ResizeGray(src *image.Gray, w, h int, interp Interp) (*image.Gray, error) {
	out, err := resize(plane{src.Pix, src.Stride, src.Rect, 1}, w, h, interp, image.Rect(0, 0, w, h))
	if err != nil {
		return nil, err
	}
	return &image.Gray{Pix: out.pix, Stride: out.stride, Rect: out.rect}, nil
}

// Luma is Pillow's convert("L"): ITU-R 601-2 luma in fixed point, L = (19595·R +
// 38470·G + 7471·B + 0x8000) >> 16.
func Luma(img *image.RGBA) *image.Gray {
	b := img.Rect
	gray := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		sp := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):][:4*b.Dx()]
		dp := gray.Pix[gray.PixOffset(0, y):][:b.Dx()]
		for x := range dp {
			p := sp[4*x : 4*x+3]
			dp[x] = uint8((uint32(p[0])*19595 + uint32(p[1])*38470 + uint32(p[2])*7471 + 0x8000) >> 16)
		}
	}
	return gray
}

// plane is an 8-bit image with bands bytes a pixel: 4 (RGBA, alpha not resampled) or 1.
type plane struct {
	pix    []uint8
	stride int
	rect   image.Rectangle
	bands  int
}

func newPlane(w, h, bands int) plane {
	return plane{make([]uint8, w*h*bands), w * bands, image.Rect(0, 0, w, h), bands}
}

// row is the bytes of row y (absolute), from the left edge.
func (p plane) row(y int) []uint8 {
	return p.pix[(y-p.rect.Min.Y)*p.stride:][:p.rect.Dx()*p.bands]
}

// resize resizes src to w×h and returns the window win of the result (win within
// 0,0,w,h). Each output pixel depends only on its own row's and column's coefficients,
// so a window is byte-identical to cropping the whole resize, for a fraction of the work.
func resize(src plane, w, h int, interp Interp, win image.Rectangle) (plane, error) {
	f, ok := filters[interp]
	if !ok {
		return plane{}, fmt.Errorf("unknown interpolation %q (want bicubic or bilinear)", interp)
	}
	if w <= 0 || h <= 0 {
		return plane{}, fmt.Errorf("resize to %dx%d: sizes must be positive", w, h)
	}
	if win.Empty() || !win.In(image.Rect(0, 0, w, h)) {
		return plane{}, fmt.Errorf("window %v is not inside the %dx%d resize", win, w, h)
	}
	sw, sh := src.rect.Dx(), src.rect.Dy()
	// The rows of src the vertical pass reads (all of the window's when there is none).
	vert := precompute(sh, h, f).window(win.Min.Y, win.Max.Y)
	first, last := win.Min.Y, win.Max.Y
	if sh != h {
		first, last = vert.bounds[0], vert.bounds[len(vert.bounds)-2]+vert.bounds[len(vert.bounds)-1]
		for i := 0; i < len(vert.bounds); i += 2 {
			vert.bounds[i] -= first
		}
	}
	// Pillow resamples horizontally first, only over the rows the vertical pass reads.
	var img plane
	if sw != w {
		img = newPlane(win.Dx(), last-first, src.bands)
		resampleHorizontal(img, src, first+src.rect.Min.Y, precompute(sw, w, f).window(win.Min.X, win.Max.X))
	} else { // the window's columns of src itself
		img = plane{src.pix[first*src.stride+win.Min.X*src.bands:], src.stride, image.Rect(0, 0, win.Dx(), last-first), src.bands}
	}
	if sh != h {
		dst := newPlane(win.Dx(), win.Dy(), src.bands)
		resampleVertical(dst, img, 0, vert)
		return dst, nil
	}
	if sw != w {
		return img, nil
	}
	dst := newPlane(win.Dx(), win.Dy(), src.bands) // neither pass: a copy of the window
	for y := 0; y < win.Dy(); y++ {
		copy(dst.row(y), img.row(y))
	}
	return dst, nil
}

// window keeps the coefficients of outputs [from, to), with their own bounds slice.
func (c coeffs) window(from, to int) coeffs {
	return coeffs{ksize: c.ksize, bounds: append([]int(nil), c.bounds[2*from:2*to]...), kk: c.kk[from*c.ksize : to*c.ksize]}
}

// resampleHorizontal fills dst's rows from src's rows rowOff.. (absolute).
func resampleHorizontal(dst, src plane, rowOff int, c coeffs) {
	if resampleHorizontalAVX2(dst, src, rowOff, c) {
		return
	}
	const half = 1 << (precisionBits - 1)
	w, h := dst.rect.Dx(), dst.rect.Dy()
	for y := 0; y < h; y++ {
		sp, dp := src.row(rowOff+y), dst.row(y)
		for xx := 0; xx < w; xx++ {
			xmin, n := c.bounds[2*xx], c.bounds[2*xx+1]
			k := c.kk[xx*c.ksize : xx*c.ksize+n]
			if src.bands == 1 {
				s := int32(half)
				for x, kx := range k {
					s += int32(sp[xmin+x]) * kx
				}
				dp[xx] = clip8(s)
				continue
			}
			// Red and blue share one int64, red's sum in the low 32 bits and blue's above:
			// both are int32 in Pillow's arithmetic, so the packed sum is exact and splits
			// back into the same two sums, for two multiplies a tap instead of three.
			rb, g := int64(half)|int64(half)<<32, int64(half)
			px := sp[4*xmin : 4*(xmin+n)]
			for x, kx := range k {
				p := px[4*x : 4*x+3 : 4*x+3]
				rb += (int64(p[0]) | int64(p[2])<<32) * int64(kx)
				g += int64(p[1]) * int64(kx)
			}
			r := int32(rb)
			dp[4*xx+0], dp[4*xx+1], dp[4*xx+2], dp[4*xx+3] = clip8(r), clip8(int32(g)), clip8(int32((rb-int64(r))>>32)), 0xff
		}
	}
}

// mulAddGo adds src[i]·k to acc[i].
func mulAddGo(acc []int32, src []uint8, k int32) {
	for i, v := range src {
		acc[i] += int32(v) * k
	}
}

// resampleVertical accumulates whole source rows per tap: row-major reads keep the
// pass cache-friendly. The sums are the same as Pillow's column order (integer adds).
// Every band but an RGBA image's alpha is resampled; alpha is set opaque.
func resampleVertical(dst, src plane, rowOff int, c coeffs) {
	const half = 1 << (precisionBits - 1)
	n := dst.rect.Dx() * dst.bands
	acc := make([]int32, n)
	for yy := 0; yy < dst.rect.Dy(); yy++ {
		ymin, taps := c.bounds[2*yy], c.bounds[2*yy+1]
		for i := range acc {
			acc[i] = half
		}
		for y, ky := range c.kk[yy*c.ksize : yy*c.ksize+taps] {
			mulAdd(acc, src.row(rowOff+ymin+y), ky)
		}
		dp := dst.row(yy)
		for i := range dp {
			dp[i] = clip8(acc[i])
		}
		if dst.bands == 4 {
			for i := 3; i < len(dp); i += 4 {
				dp[i] = 0xff
			}
		}
	}
}
