package metrics

import (
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// PatchForeground marks the subject patches of two images of one sample from their
// identity-encoder patch tokens, without a segmenter: the DINOv2 paper's foreground, the
// first principal component of the patch tokens of both images together, thresholded at
// zero. A component's sign is arbitrary; it is chosen so that the patches on the images'
// borders (background, in a photo of a subject) lie below zero on average. Each argument
// is grid·grid row-major patch tokens; ok is false when the tokens give no component (fewer
// than two patches, or all equal).
func PatchForeground(a, b [][]float32, grid int) (fa, fb []bool, ok bool) {
	rows := append(append([][]float32(nil), a...), b...)
	if len(rows) < 2 || len(rows[0]) == 0 {
		return nil, nil, false
	}
	d := len(rows[0])
	x := mat.NewDense(len(rows), d, nil)
	for i, r := range rows {
		for j, v := range r {
			x.Set(i, j, float64(v))
		}
	}
	var pc stat.PC
	if !pc.PrincipalComponents(x, nil) {
		return nil, nil, false
	}
	var vecs mat.Dense
	pc.VectorsTo(&vecs)
	if vars := pc.VarsTo(nil); len(vars) == 0 || vars[0] <= 0 {
		return nil, nil, false
	}
	first := vecs.ColView(0)
	means := make([]float64, d)
	for j := range d {
		means[j] = mat.Sum(x.ColView(j)) / float64(len(rows))
	}
	proj := make([]float64, len(rows))
	for i, r := range rows {
		for j, v := range r {
			proj[i] += (float64(v) - means[j]) * first.AtVec(j)
		}
	}
	border, n := 0.0, 0
	for i := range rows {
		p := i % (grid * grid)
		if y, x := p/grid, p%grid; y == 0 || x == 0 || y == grid-1 || x == grid-1 {
			border, n = border+proj[i], n+1
		}
	}
	sign := 1.0
	if n > 0 && border > 0 {
		sign = -1
	}
	fg := make([]bool, len(rows))
	for i := range rows {
		fg[i] = sign*proj[i] > 0
	}
	return fg[:len(a)], fg[len(a):], true
}
