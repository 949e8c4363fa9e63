package metrics

import (
	"image"
	"math"

	"github.com/charisbench/charisbench/charis"
)

// Antonym is one CLIP-IQA prompt pair, embedded.
type Antonym struct {
	Positive, Negative []float32
}

// VQ is visual quality (spec axis 4), CLIP-IQA style: for each antonym pair
// q_i = softmax(scale·[cos(G, pos_i), cos(G, neg_i)])[0]; VQ_raw = mean q_i, averaged with
// the IQA model's (calibrated) score when one is given. Guard: an image whose luma standard
// deviation is below minLumaStd (near constant) or with more than maxClipped of its pixels
// clipped to black or white gets VQ = 0 and a flag. VQ is its own score.
func VQ(img []float32, antonyms []Antonym, scale float64, iqa *float64, g Luma, cfg charis.VQConfig) charis.AxisValue {
	q := 0.0
	qs := make([]float64, len(antonyms))
	for i, a := range antonyms {
		p, n := scale*charis.Cosine(img, a.Positive), scale*charis.Cosine(img, a.Negative)
		qs[i] = 1 / (1 + math.Exp(n-p)) // softmax([p, n])[0]
		q += qs[i]
	}
	raw := q / float64(len(antonyms))
	diag := map[string]any{"clip_iqa": qs, "luma_std": g.Std, "clipped_share": g.ClippedShare}
	if iqa != nil {
		diag["iqa"] = *iqa
		raw = (raw + *iqa) / 2
	}
	score := raw
	switch {
	case g.Std < cfg.MinLumaStd:
		score, diag["flag"] = 0, "near_constant"
	case g.ClippedShare > cfg.MaxClippedShare:
		score, diag["flag"] = 0, "clipped"
	}
	return charis.AxisValue{Raw: raw, Score: min(1, max(0, score)), Diag: diag}
}

// Luma summarises an image's brightness for VQ's guard.
type Luma struct {
	Std          float64 // standard deviation of luma in [0, 1]
	ClippedShare float64 // share of pixels with luma ≤ 1/255 or ≥ 254/255
}

// LumaOf measures an image with Rec. 601 luma (0.299 R + 0.587 G + 0.114 B).
func LumaOf(img *image.RGBA) Luma {
	b := img.Rect
	n := float64(b.Dx() * b.Dy())
	var sum, sum2, clipped float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := img.Pix[img.PixOffset(x, y):]
			l := (0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])) / 255
			sum += l
			sum2 += l * l
			if l <= 1.0/255 || l >= 254.0/255 {
				clipped++
			}
		}
	}
	m := sum / n
	return Luma{Std: math.Sqrt(max(0, sum2/n-m*m)), ClippedShare: clipped / n}
}
