package perturb

import (
	"image"
	"math/rand/v2"
	"testing"
)

func checker() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for y := range 24 {
		for x := range 32 {
			v := uint8(20)
			if (x/4+y/4)%2 == 0 {
				v = 230
			}
			copy(img.Pix[img.PixOffset(x, y):], []uint8{v, v / 2, 255 - v, 255})
		}
	}
	return img
}

// contrast is the mean absolute difference of horizontal neighbours (red channel).
func contrast(img *image.RGBA) float64 {
	s, n := 0.0, 0
	for y := range img.Rect.Dy() {
		for x := 1; x < img.Rect.Dx(); x++ {
			a, b := img.Pix[img.PixOffset(x, y)], img.Pix[img.PixOffset(x-1, y)]
			s += float64(max(a, b) - min(a, b))
			n++
		}
	}
	return s / float64(n)
}

func TestApply(t *testing.T) {
	src := checker()
	for _, kind := range Kinds {
		out, _, err := Apply(kind, 0, src, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if string(out.Pix) != string(src.Pix) && kind != JPEG {
			t.Errorf("%s at strength 0 changed the image", kind)
		}
		a, _, _ := Apply(kind, 1, src, rand.New(rand.NewPCG(1, 1)))
		b, _, _ := Apply(kind, 1, src, rand.New(rand.NewPCG(1, 1)))
		if string(a.Pix) != string(b.Pix) {
			t.Errorf("%s: the same stream gave different bytes", kind)
		}
	}
	blurred, detail, _ := Apply(Blur, 1, src, nil)
	if contrast(blurred) >= 0.8*contrast(src) || detail["sigma_px"] != 2.5*24.0/64 {
		t.Errorf("blur@1: contrast %v of %v, sigma %v", contrast(blurred), contrast(src), detail["sigma_px"])
	}
	blank, _, _ := Apply(Blank, 1, src, nil)
	if contrast(blank) != 0 || blank.Pix[0] != 128 {
		t.Errorf("blank@1 is not flat gray: contrast %v, first pixel %d", contrast(blank), blank.Pix[0])
	}
	if _, _, err := Apply("smudge", 1, src, nil); err == nil {
		t.Error("an unknown kind was applied")
	}
}
