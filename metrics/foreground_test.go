package metrics

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPatchForeground: tokens of a subject in the centre of a background, the background
// varied more than the subject in some images and less in others, and the subject on
// either side of the mean: the first component's sign is fixed by the border, so the
// centre is the foreground in both images.
func TestPatchForeground(t *testing.T) {
	const grid, d = 6, 8
	r := rand.New(rand.NewPCG(1, 2))
	want := make([]bool, grid*grid)
	for p := range want {
		y, x := p/grid, p%grid
		want[p] = y >= 2 && y <= 3 && x >= 1 && x <= 4
	}
	image := func(fg, bg float32) [][]float32 {
		var out [][]float32
		for p := range grid * grid {
			v := make([]float32, d)
			for j := range v {
				v[j] = float32(r.NormFloat64()) * 0.1
			}
			if want[p] {
				v[0] += fg
			} else {
				v[0] += bg
			}
			out = append(out, v)
		}
		return out
	}
	for _, c := range []struct{ fg, bg float32 }{{3, -1}, {-3, 1}} {
		fa, fb, ok := PatchForeground(image(c.fg, c.bg), image(c.fg, c.bg), grid)
		if !ok || !slices.Equal(fa, want) || !slices.Equal(fb, want) {
			t.Errorf("subject at %v, background at %v: got %v / %v, want %v", c.fg, c.bg, fa, fb, want)
		}
	}
	if _, _, ok := PatchForeground([][]float32{{1, 2}}, nil, 1); ok {
		t.Error("one patch gives no component")
	}
	same := [][]float32{{1, 2}, {1, 2}, {1, 2}, {1, 2}}
	if _, _, ok := PatchForeground(same, same, 2); ok {
		t.Error("equal tokens give no component")
	}
}
