package preprocess

import (
	"bytes"
	"image"
	"math/rand/v2"
	"testing"
)

// TestAVX2LikeScalar: the AVX2 passes give the scalar passes' bytes, down and up, one band
// and four, both filters, whole resizes and windows, rows narrower than one load and
// outputs at the right edge (whose loads start early), over random and two-level images
// (whose sums hit both ends of clip8).
func TestAVX2LikeScalar(t *testing.T) {
	if !useAVX2 {
		t.Skip("this CPU has no AVX2: the scalar passes are the only ones")
	}
	defer func(v bool) { useAVX2 = v }(useAVX2)
	r := rand.New(rand.NewPCG(7, 8))
	sizes := [][4]int{{1, 1, 1, 1}, {3, 2, 7, 5}, {5, 9, 2, 3}, {7, 7, 3, 3}, {8, 8, 3, 3}, {9, 4, 4, 9},
		{31, 17, 8, 8}, {64, 48, 21, 16}, {200, 150, 23, 64}, {317, 211, 224, 150}, {1000, 700, 128, 128}, {40, 40, 40, 17}}
	for _, s := range sizes {
		for _, bands := range []int{4, 1} {
			for _, interp := range []Interp{Bicubic, Bilinear} {
				for _, twoLevel := range []bool{false, true} {
					src := newPlane(s[0], s[1], bands)
					for i := range src.pix {
						if src.pix[i] = uint8(r.IntN(256)); twoLevel {
							src.pix[i] = uint8(255 * r.IntN(2))
						}
					}
					wins := []image.Rectangle{image.Rect(0, 0, s[2], s[3])}
					x0, y0 := r.IntN(s[2]), r.IntN(s[3])
					wins = append(wins, image.Rect(x0, y0, x0+1+r.IntN(s[2]-x0), y0+1+r.IntN(s[3]-y0)))
					for _, win := range wins {
						useAVX2 = false
						want, err := resize(src, s[2], s[3], interp, win)
						if err != nil {
							t.Fatal(err)
						}
						useAVX2 = true
						got, err := resize(src, s[2], s[3], interp, win)
						if err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(got.pix, want.pix) {
							t.Errorf("%v, %d bands, %s, two-level %v, window %v: the AVX2 bytes differ from the scalar ones", s, bands, interp, twoLevel, win)
						}
					}
				}
			}
		}
	}
}
