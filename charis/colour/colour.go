// Package colour converts 8-bit sRGB to CIELAB (D65) and measures colour differences with
// CIEDE2000.
//
// Conversions follow IEC 61966-2-1 (sRGB transfer function and primaries) and CIE 15
// (CIELAB); CIEDE2000 follows Sharma, Wu & Dalal, "The CIEDE2000 color-difference formula:
// implementation notes, supplementary test data, and mathematical observations", Color
// Research & Application 30(1), 2005, and reproduces their 34 test pairs to 1e-4.
// L is in [0, 100]; a and b are unbounded but within about ±128 for sRGB colours.
package colour

import "math"

// Lab is a CIELAB colour under the D65 white point.
type Lab struct {
	L float64 `json:"l"`
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// D65 white point, XYZ with Y = 1 (CIE 15, 2° observer), as scikit-image uses.
const (
	whiteX = 0.95047
	whiteY = 1.0
	whiteZ = 1.08883
)

// CIELAB's piecewise cube-root constants: ε = (6/29)³ and κ-based linear segment.
const (
	labEpsilon = 216.0 / 24389.0
	labKappa   = 24389.0 / 27.0
)

// srgbToLinear is the sRGB decoding function for a value in [0, 1].
func srgbToLinear(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

// linearToSRGB is the sRGB encoding function for a value in [0, 1].
func linearToSRGB(v float64) float64 {
	if v <= 0.0031308 {
		return 12.92 * v
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}

var linear8 = func() (t [256]float64) { // sRGB decoding of every 8-bit value
	for i := range t {
		t[i] = srgbToLinear(float64(i) / 255)
	}
	return t
}()

// FromSRGB8 converts an 8-bit sRGB colour to CIELAB.
func FromSRGB8(r, g, b uint8) Lab {
	return FromLinear(linear8[r], linear8[g], linear8[b])
}

// FromLinear converts linear-light sRGB (each in [0, 1]) to CIELAB.
func FromLinear(r, g, b float64) Lab {
	x := 0.4124564*r + 0.3575761*g + 0.1804375*b
	y := 0.2126729*r + 0.7151522*g + 0.0721750*b
	z := 0.0193339*r + 0.1191920*g + 0.9503041*b
	fx, fy, fz := labF(x/whiteX), labF(y/whiteY), labF(z/whiteZ)
	return Lab{L: 116*fy - 16, A: 500 * (fx - fy), B: 200 * (fy - fz)}
}

func labF(t float64) float64 {
	if t > labEpsilon {
		return math.Cbrt(t)
	}
	return (labKappa*t + 16) / 116
}

func labFInv(f float64) float64 {
	if f3 := f * f * f; f3 > labEpsilon {
		return f3
	}
	return (116*f - 16) / labKappa
}

// ToSRGB8 converts CIELAB to 8-bit sRGB, clipping out-of-gamut colours channel-wise.
// ok is false when clipping was needed.
func (c Lab) ToSRGB8() (r, g, b uint8, ok bool) {
	fy := (c.L + 16) / 116
	x, y, z := whiteX*labFInv(fy+c.A/500), whiteY*labFInv(fy), whiteZ*labFInv(fy-c.B/200)
	lin := [3]float64{
		3.2404542*x - 1.5371385*y - 0.4985314*z,
		-0.9692660*x + 1.8760108*y + 0.0415560*z,
		0.0556434*x - 0.2040259*y + 1.0572252*z,
	}
	ok = true
	var out [3]uint8
	for i, v := range lin {
		if v < -1e-5 || v > 1+1e-5 { // the published matrices are inverse to about 1e-7

			ok = false
		}
		out[i] = uint8(math.Round(255 * linearToSRGB(min(1, max(0, v)))))
	}
	return out[0], out[1], out[2], ok
}

// Weights are CIEDE2000's parametric factors kL, kC, kH (1, 1, 1 for reference
// conditions; CHARIS's colour fidelity uses kL = 2 so a relit subject is penalised less).
type Weights struct{ KL, KC, KH float64 }

// Reference is kL = kC = kH = 1.
var Reference = Weights{1, 1, 1}

// DeltaE2000 is the CIEDE2000 difference of two CIELAB colours: 0 for equal colours,
// about 1 for a just-noticeable difference. It is symmetric.
func DeltaE2000(c1, c2 Lab, w Weights) float64 {
	const pow25to7 = 6103515625.0 // 25^7
	deg := math.Pi / 180

	cab := (math.Hypot(c1.A, c1.B) + math.Hypot(c2.A, c2.B)) / 2
	cab7 := math.Pow(cab, 7)
	g := 0.5 * (1 - math.Sqrt(cab7/(cab7+pow25to7)))
	a1p, a2p := (1+g)*c1.A, (1+g)*c2.A
	c1p, c2p := math.Hypot(a1p, c1.B), math.Hypot(a2p, c2.B)
	h1p, h2p := hueDeg(c1.B, a1p), hueDeg(c2.B, a2p)

	dLp := c2.L - c1.L
	dCp := c2p - c1p
	var dhp float64
	switch {
	case c1p*c2p == 0:
		dhp = 0
	case math.Abs(h2p-h1p) <= 180:
		dhp = h2p - h1p
	case h2p-h1p > 180:
		dhp = h2p - h1p - 360
	default:
		dhp = h2p - h1p + 360
	}
	dHp := 2 * math.Sqrt(c1p*c2p) * math.Sin(dhp/2*deg)

	lBar := (c1.L + c2.L) / 2
	cBar := (c1p + c2p) / 2
	var hBar float64
	switch {
	case c1p*c2p == 0:
		hBar = h1p + h2p
	case math.Abs(h1p-h2p) <= 180:
		hBar = (h1p + h2p) / 2
	case h1p+h2p < 360:
		hBar = (h1p + h2p + 360) / 2
	default:
		hBar = (h1p + h2p - 360) / 2
	}
	t := 1 - 0.17*math.Cos((hBar-30)*deg) + 0.24*math.Cos(2*hBar*deg) +
		0.32*math.Cos((3*hBar+6)*deg) - 0.20*math.Cos((4*hBar-63)*deg)
	dTheta := 30 * math.Exp(-math.Pow((hBar-275)/25, 2))
	cBar7 := math.Pow(cBar, 7)
	rc := 2 * math.Sqrt(cBar7/(cBar7+pow25to7))
	l50 := (lBar - 50) * (lBar - 50)
	sl := 1 + 0.015*l50/math.Sqrt(20+l50)
	sc := 1 + 0.045*cBar
	sh := 1 + 0.015*cBar*t
	rt := -math.Sin(2*dTheta*deg) * rc

	lTerm := dLp / (w.KL * sl)
	cTerm := dCp / (w.KC * sc)
	hTerm := dHp / (w.KH * sh)
	return math.Sqrt(lTerm*lTerm + cTerm*cTerm + hTerm*hTerm + rt*cTerm*hTerm)
}

// hueDeg is atan2(b, a) in degrees within [0, 360), 0 for the achromatic axis.
func hueDeg(b, a float64) float64 {
	if a == 0 && b == 0 {
		return 0
	}
	h := math.Atan2(b, a) * 180 / math.Pi
	if h < 0 {
		h += 360
	}
	return h
}
