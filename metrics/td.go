package metrics

import (
	"image"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/preprocess"
	"github.com/charisbench/charisbench/metrics/ssim"
)

// Novelty is TD's first half: 1 − max(0, SSIM(R, G)) on gray images resized to size×size
// (Pillow's "L" conversion, bicubic; GrayResized). A copy of the reference scores 0.
func Novelty(r, g ssim.Gray) (float64, error) {
	s, err := ssim.SSIM(r, g, 255)
	if err != nil {
		return 0, err
	}
	return 1 - max(0, s), nil
}

// GrayResized converts to Pillow's "L" (ITU-R 601-2 luma, fixed point) and resizes the
// gray image to size×size with Pillow's bicubic filter: what Novelty compares.
func GrayResized(img *image.RGBA, size int) (ssim.Gray, error) {
	rs, err := preprocess.ResizeGray(preprocess.Luma(img), size, size, preprocess.Bicubic)
	if err != nil {
		return ssim.Gray{}, err
	}
	out := ssim.Gray{W: size, H: size, Pix: make([]float64, size*size)}
	for i, v := range rs.Pix {
		out.Pix[i] = float64(v)
	}
	return out, nil
}

// TD is transformation diversity (spec axis 5, version 1): TD = 0.5·novelty +
// 0.5·calibrate(spread), spread being the mean over the other generations of the same
// subject and variant of (1 − cosine of full-image CLS tokens). With no other generation
// (others = 0) spread is undefined: TD = novelty, flagged single_generation.
func TD(novelty, spread float64, others int, cal *charis.Calibration) charis.AxisValue {
	diag := map[string]any{"novelty": novelty}
	if others == 0 {
		diag["flag"] = "single_generation"
		return charis.AxisValue{Raw: novelty, Score: novelty, Diag: diag}
	}
	diag["spread"], diag["others"] = spread, others
	raw := 0.5*novelty + 0.5*cal.Calibrate(spread)
	return charis.AxisValue{Raw: raw, Score: min(1, max(0, raw)), Diag: diag}
}

// TDv2 is transformation diversity as CHARIS v2 defines it (charis-v2.md, change 4):
//
//	TD = (0.5·novelty + 0.5·calibrate(spread)) · IC
//
// spread being measured on CLIP image embeddings (which see pose, scene and style, unlike
// the identity encoder) and IC the sample's calibrated IC score: diversity counts only
// as far as the identity is kept, so a copy of the reference (novelty 0, spread 0), an
// identity swap (IC low) and noise (IC falls) all lose TD. With no other generation,
// TD = novelty·IC, flagged single_generation. raw is the factor before IC.
func TDv2(novelty, spread float64, others int, cal *charis.Calibration, ic float64) charis.AxisValue {
	diag := map[string]any{"novelty": novelty, "ic": ic}
	raw := novelty
	if others == 0 {
		diag["flag"] = "single_generation"
	} else {
		diag["spread"], diag["others"] = spread, others
		raw = 0.5*novelty + 0.5*cal.Calibrate(spread)
	}
	return charis.AxisValue{Raw: raw, Score: min(1, max(0, raw*ic)), Diag: diag}
}

// Spread computes, for unit vector u_i of a group whose unit vectors sum to sum (n of
// them), the mean of 1 − cos(u_i, u_j) over the n − 1 others without revisiting them:
// 1 − (u_i·sum − u_i·u_i) / (n − 1).
func Spread(u []float32, sum []float64, n int) float64 {
	if n < 2 {
		return 0
	}
	d, self := 0.0, 0.0
	for i, x := range u {
		d += float64(x) * sum[i]
		self += float64(x) * float64(x)
	}
	return 1 - (d-self)/float64(n-1)
}
