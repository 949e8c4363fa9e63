// Package perturb degrades images by a known strength: the image-space failure families
// that charis-world's builder and charisbench validate share (blur, noise, JPEG, blank).
// Strength is in [0, 1]; 0 returns an unchanged copy. The same inputs and random stream
// give the same bytes.
package perturb

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Image-space kinds and what a strength s means for an image of side (shorter side) S.
const (
	Blur  = "blur"  // Gaussian blur, σ = 2.5·s pixels per 64 pixels of side
	Noise = "noise" // Gaussian noise, σ = 64·s levels
	JPEG  = "jpeg"  // JPEG quality round(95 − 90·s)
	Blank = "blank" // blend towards flat gray by s
)

// Kinds lists the image-space kinds.
var Kinds = []string{Blur, Noise, JPEG, Blank}

// Apply degrades img by kind at strength s; r draws the noise. It returns the image and
// the parameter used (sigma_px, sigma, quality); an unknown kind is an error.
func Apply(kind string, s float64, img *image.RGBA, r *rand.Rand) (*image.RGBA, map[string]any, error) {
	detail := map[string]any{}
	side := min(img.Rect.Dx(), img.Rect.Dy())
	switch kind {
	case Blur:
		sigma := 2.5 * s * float64(side) / 64
		detail["sigma_px"] = sigma
		return gaussianBlur(img, sigma), detail, nil
	case Noise:
		sigma := 64 * s
		detail["sigma"] = sigma
		return addNoise(img, sigma, r), detail, nil
	case JPEG:
		q := int(math.Round(95 - 90*s))
		detail["quality"] = q
		return jpegRoundTrip(img, q), detail, nil
	case Blank:
		return blank(img, s), detail, nil
	}
	return nil, nil, fmt.Errorf("unknown image perturbation %q (want blur, noise, jpeg or blank)", kind)
}

// gaussianBlur blurs with a separable Gaussian kernel of standard deviation sigma
// (pixels), radius ceil(3σ), edges clamped.
func gaussianBlur(src *image.RGBA, sigma float64) *image.RGBA {
	if sigma <= 0 {
		return cloneRGBA(src)
	}
	rad := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*rad+1)
	sum := 0.0
	for i := range k {
		d := float64(i - rad)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	tmp := make([]float64, 3*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				acc := 0.0
				for i, kv := range k {
					xx := min(max(x+i-rad, 0), w-1)
					acc += kv * float64(src.Pix[src.PixOffset(xx, y)+c])
				}
				tmp[3*(y*w+x)+c] = acc
			}
		}
	}
	dst := image.NewRGBA(src.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				acc := 0.0
				for i, kv := range k {
					yy := min(max(y+i-rad, 0), h-1)
					acc += kv * tmp[3*(yy*w+x)+c]
				}
				dst.Pix[dst.PixOffset(x, y)+c] = uint8(math.Round(min(255, max(0, acc))))
			}
			dst.Pix[dst.PixOffset(x, y)+3] = 255
		}
	}
	return dst
}

func addNoise(src *image.RGBA, sigma float64, r *rand.Rand) *image.RGBA {
	dst := cloneRGBA(src)
	for i := range dst.Pix {
		if i%4 == 3 {
			continue
		}
		dst.Pix[i] = uint8(math.Round(min(255, max(0, float64(dst.Pix[i])+sigma*r.NormFloat64()))))
	}
	return dst
}

func jpegRoundTrip(src *image.RGBA, quality int) *image.RGBA {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: quality}); err != nil {
		return cloneRGBA(src) // encoding to memory cannot fail for an RGBA image
	}
	img, err := jpeg.Decode(&buf)
	if err != nil {
		return cloneRGBA(src)
	}
	dst := image.NewRGBA(src.Rect)
	draw.Draw(dst, dst.Rect, img, img.Bounds().Min, draw.Src)
	return dst
}

// blank mixes src towards flat mid-gray by t.
func blank(src *image.RGBA, t float64) *image.RGBA {
	dst := cloneRGBA(src)
	for i := range dst.Pix {
		if i%4 == 3 {
			continue
		}
		dst.Pix[i] = uint8(math.Round((1-t)*float64(src.Pix[i]) + t*128))
	}
	return dst
}

func cloneRGBA(src *image.RGBA) *image.RGBA {
	dst := image.NewRGBA(src.Rect)
	copy(dst.Pix, src.Pix)
	return dst
}
