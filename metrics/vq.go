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

// LumaOf measures an image with Rec. 601 luma (0.299 R + 0.587 G + 0.114 B). Sums run
// in integers, k = 299 R + 587 G + 114 B being luma·255,000 exactly (a camera-sized image
// is measured without a rounding per pixel), joined per row in float64.
func LumaOf(img *image.RGBA) Luma {
	b := img.Rect
	n := float64(b.Dx() * b.Dy())
	const scale = 255000.0
	var sum, sum2 float64
	clipped := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, y):][:4*b.Dx()]
		var s, s2 uint64 // no overflow below 2^28 pixels a row (255,000² < 2^36)
		for i := 0; i+3 < len(row); i += 4 {
			k := uint64(299*uint32(row[i]) + 587*uint32(row[i+1]) + 114*uint32(row[i+2]))
			s += k
			s2 += k * k
			if k <= 1000 || k >= 254000 { // luma ≤ 1/255 or ≥ 254/255
				clipped++
			}
		}
		sum += float64(s)
		sum2 += float64(s2)
	}
	m := sum / scale / n
	return Luma{Std: math.Sqrt(max(0, sum2/(scale*scale)/n-m*m)), ClippedShare: float64(clipped) / n}
}
