package flowdit

import (
	"image"
	"math/rand/v2"

	"github.com/charisbench/charisbench/charis/clip"
	"github.com/charisbench/charisbench/charis/world"
)

// PromptsPerSubject is how many transformed targets each training character has.
const PromptsPerSubject = 8

// WorldBatch renders triples start..start+n−1 of the charis-world training split (characters
// the benchmark never uses): triple i is prompt i mod 8 of subject i / 8. Each triple carries
// its reference with probability refRate (decided by the triple's index, so a batch renders
// the same way every time); otherwise the reference half is zero, as text → image pretraining
// sees it.
func (c Config) WorldBatch(tok *clip.Tokenizer, seed uint64, start, n int, refRate float64) Batch {
	b := Batch{N: n, Targets: make([]float32, 0, n*c.ImageSize*c.ImageSize*c.Channels),
		References: make([]float32, 0, n*c.ImageSize*c.ImageSize*c.Channels)}
	for i := start; i < start+n; i++ {
		subj, k := i/PromptsPerSubject, i%PromptsPerSubject
		id := world.SubjectIdentity(seed, world.SplitTrain, subj)
		scene := world.SampleScene(seed, world.SplitTrain, subj, k, 4)
		b.Targets = append(b.Targets, ToLatent(world.Draw(id, scene, c.ImageSize).Image)...)
		if refRate >= 1 || (refRate > 0 && rand.New(rand.NewPCG(seed, uint64(i))).Float64() < refRate) {
			b.References = append(b.References, ToLatent(world.Draw(id, nil, c.ImageSize).Image)...)
		} else {
			b.References = append(b.References, make([]float32, c.ImageSize*c.ImageSize*c.Channels)...)
		}
		b.IDs = append(b.IDs, c.HashIDs(tok.Tokenize(scene.Prompt(), clip.ContextLength))...)
	}
	return b
}

// ToLatent maps an RGB image to [H, W, 3] values in [-1, 1].
func ToLatent(img *image.RGBA) []float32 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := make([]float32, 0, w*h*3)
	for y := 0; y < h; y++ {
		row := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):]
		for x := 0; x < w; x++ {
			for ch := range 3 {
				out = append(out, float32(row[4*x+ch])/127.5-1)
			}
		}
	}
	return out
}

// FromLatent maps [S, S, 3] values in [-1, 1] back to an RGB image.
func FromLatent(z []float32, size int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range size * size {
		for ch := range 3 {
			v := (z[3*i+ch] + 1) * 127.5
			img.Pix[4*i+ch] = uint8(min(255, max(0, v+0.5)))
		}
		img.Pix[4*i+3] = 255
	}
	return img
}
