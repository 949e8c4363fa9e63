package gomlxblas

import (
	"math"
	"unsafe"
)

// unaryFloat32 returns a float32 unary op's input and its output (an owned input is reused,
// as simplego does); ok is false for other dtypes, which go to simplego's executor.
func unaryFloat32(be unsafe.Pointer, n *node, inputs []*buffer, owned []bool) (x, y []float32, out *buffer, ok bool) {
	if !isFloat32(inputs[0]) {
		return nil, nil, nil, false
	}
	x = inputs[0].flat.([]float32)
	if owned[0] {
		out = inputs[0]
		inputs[0] = nil // tells the executor the buffer was taken over
	} else {
		out = getBufferForShape(be, n.shape)
	}
	return x, out.flat.([]float32)[:len(x)], out, true
}

func execExp(be unsafe.Pointer, n *node, inputs []*buffer, owned []bool) (*buffer, error) {
	x, y, out, ok := unaryFloat32(be, n, inputs, owned)
	if !ok {
		return original[n.opType](be, n, inputs, owned)
	}
	parallelRange(be, len(x), func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = expf(v)
		}
	})
	return out, nil
}

func execErf(be unsafe.Pointer, n *node, inputs []*buffer, owned []bool) (*buffer, error) {
	x, y, out, ok := unaryFloat32(be, n, inputs, owned)
	if !ok {
		return original[n.opType](be, n, inputs, owned)
	}
	parallelRange(be, len(x), func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = erff(v)
		}
	})
	return out, nil
}

// expf is e^x in float32: x = k·ln2 + r with |r| ≤ ln2/2 (ln2 split in two for an exact
// product), e^r by Cephes' degree-7 polynomial, and 2^k put into the exponent bits. Below
// -104 it is 0; elsewhere outside (-87, 88), where 2^k leaves the normal range, and for NaN
// it defers to math.Exp.
func expf(x float32) float32 {
	if !(x > -87 && x < 88) {
		if x < -104 { // below half the smallest denormal: softmax's masked scores land here
			return 0
		}
		return float32(math.Exp(float64(x)))
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	f := x * log2e
	if f < 0 {
		f -= 0.5
	} else {
		f += 0.5
	}
	k := int32(f)
	kf := float32(k)
	r := x - kf*ln2hi - kf*ln2lo
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	return y * math.Float32frombits(uint32(k+127)<<23)
}

// erff is erf(x) in float32: its Maclaurin series to x¹¹ for |x| < 0.5 (truncation below
// 2e-8 relative), Abramowitz and Stegun 7.1.26 (absolute error ≤ 1.5e-7) above, ±1 past 4.
func erff(x float32) float32 {
	ax := x
	if ax < 0 {
		ax = -ax
	}
	switch {
	case ax != ax: // NaN
		return x
	case ax < 0.5:
		z := x * x
		s := float32(-1.0 / 1320)
		s = s*z + 1.0/216
		s = s*z - 1.0/42
		s = s*z + 1.0/10
		s = s*z - 1.0/3
		s = s*z + 1
		return x * s * 1.1283791670955126 // 2/√π
	case ax >= 4:
		return float32(math.Copysign(1, float64(x)))
	}
	const p = 0.3275911
	t := 1 / (1 + p*ax)
	poly := float32(1.061405429)
	poly = poly*t - 1.453152027
	poly = poly*t + 1.421413741
	poly = poly*t - 0.284496736
	poly = poly*t + 0.254829592
	y := 1 - poly*t*expf(-ax*ax)
	if x < 0 {
		return -y
	}
	return y
}
