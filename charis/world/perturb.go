package world

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/charisbench/charisbench/charis/colour"
)

// Perturbation kinds, each degrading a ground-truth generation by a known strength in
// [0, 1] (0 leaves it unchanged), to check that each CHARIS axis moves the way it should.
const (
	IdentitySwap   = "identity_swap"   // round(s·9) identity attributes changed (≥ 1 when s > 0)
	Recolour       = "recolour"        // one body part recoloured by ΔE00 ≈ 40·s
	PromptMismatch = "prompt_mismatch" // round(s·n) of the prompt's n clauses swapped for others
	Blur           = "blur"            // Gaussian blur, σ = 2.5·s pixels per 64 pixels of side
	Noise          = "noise"           // Gaussian noise, σ = 64·s levels
	JPEG           = "jpeg"            // JPEG quality round(95 − 90·s)
	Blank          = "blank"           // blend towards flat gray by s
	CopyPaste      = "copy_paste"      // blend towards the reference image by s
)

// recolourMaxDeltaE is the ΔE00 of a recolour at strength 1; every palette colour reaches it.
const recolourMaxDeltaE = 40

// PerturbationKinds lists the kinds in a fixed order.
var PerturbationKinds = []string{IdentitySwap, Recolour, PromptMismatch, Blur, Noise, JPEG, Blank, CopyPaste}

// Perturbation is a kind at a strength.
type Perturbation struct {
	Kind     string  `json:"kind"`
	Strength float64 `json:"strength"`
}

func (p Perturbation) String() string { return fmt.Sprintf("%s@%g", p.Kind, p.Strength) }

// ParsePerturbation reads "kind@strength", such as "blur@0.5".
func ParsePerturbation(s string) (Perturbation, error) {
	kind, val, ok := strings.Cut(s, "@")
	var p Perturbation
	if !ok {
		return p, fmt.Errorf("perturbation %q: want KIND@STRENGTH, such as blur@0.5", s)
	}
	if !slices.Contains(PerturbationKinds, kind) {
		return p, fmt.Errorf("perturbation %q: unknown kind %q (want %s)", s, kind, strings.Join(PerturbationKinds, ", "))
	}
	if _, err := fmt.Sscanf(val, "%g", &p.Strength); err != nil || !(p.Strength >= 0 && p.Strength <= 1) {
		return p, fmt.Errorf("perturbation %q: strength must be a number in [0, 1]", s)
	}
	p.Kind = kind
	return p, nil
}

// Perturbed is a perturbed generation and what was done.
type Perturbed struct {
	Render *Render        // image and part map (the part map follows the pixels' geometry)
	Prompt string         // the prompt the row states (changed by prompt_mismatch only)
	Detail map[string]any // ground truth of the change
}

// Perturb applies p to the generation of scene s for identity id at the given size. ref is
// the reference render (for copy_paste); r draws the random choices.
func Perturb(p Perturbation, id Identity, s Scene, size int, ref *Render, r *rand.Rand) Perturbed {
	target := Draw(id, s, size)
	out := Perturbed{Render: target, Prompt: s.Prompt(), Detail: map[string]any{}}
	sp := p.Strength
	if sp <= 0 {
		return out
	}
	switch p.Kind {
	case IdentitySwap:
		k := int(math.Round(sp * float64(len(Attributes))))
		if sp > 0 {
			k = max(k, 1)
		}
		swapped, changed := id.Swap(r, k)
		out.Render = Draw(swapped, s, size)
		out.Detail["changed"] = changed
	case Recolour:
		part := BodyParts[r.IntN(len(BodyParts))]
		old := id.Color(part)
		c, dE := recolour(old, recolourMaxDeltaE*sp)
		changed := id
		changed.SetColor(part, c)
		out.Render = Draw(changed, s, size)
		out.Detail["part"], out.Detail["from"], out.Detail["to"], out.Detail["delta_e00"] = part.String(), old, c, dE
	case PromptMismatch:
		mis, changed := mismatch(s, sp, r)
		out.Prompt = mis.Prompt()
		out.Detail["changed"] = changed
	case Blur:
		sigma := 2.5 * sp * float64(size) / 64
		out.Render = withImage(target, gaussianBlur(target.Image, sigma))
		out.Detail["sigma_px"] = sigma
	case Noise:
		sigma := 64 * sp
		out.Render = withImage(target, addNoise(target.Image, sigma, r))
		out.Detail["sigma"] = sigma
	case JPEG:
		q := int(math.Round(95 - 90*sp))
		out.Render = withImage(target, jpegRoundTrip(target.Image, q))
		out.Detail["quality"] = q
	case Blank:
		out.Render = withImage(target, blend(target.Image, nil, sp))
	case CopyPaste:
		if sp >= 1 {
			out.Render = ref
		} else {
			out.Render = withImage(target, blend(target.Image, ref.Image, sp))
		}
	}
	return out
}

func withImage(r *Render, img *image.RGBA) *Render {
	return &Render{Image: img, Parts: r.Parts, Size: r.Size}
}

// minRecolourChroma is the chroma a recolour path reaches, so grays can be recoloured too.
const minRecolourChroma = 60

// recolour finds a colour about target ΔE00 away from c: rotate its hue in CIELAB (up to
// 180°, raising a low chroma to minRecolourChroma), then move its lightness, choosing by
// bisection. It returns the colour and the
// ΔE00 (kL = kC = kH = 1) actually reached after rounding to 8 bits.
func recolour(c NamedColor, target float64) (NamedColor, float64) {
	lab := colour.FromSRGB8(c.R, c.G, c.B)
	chroma, hue := math.Hypot(lab.A, lab.B), math.Atan2(lab.B, lab.A)
	farL := 97.0 // towards white for dark colours, black for light ones
	if lab.L > 50 {
		farL = 5
	}
	at := func(t float64) (NamedColor, float64) {
		h := hue + math.Pi*min(t, 1)
		ch := chroma + (max(chroma, minRecolourChroma)-chroma)*min(t, 1) // grays gain colour
		l := lab.L + (farL-lab.L)*max(0, t-1)
		r, g, b, _ := colour.Lab{L: l, A: ch * math.Cos(h), B: ch * math.Sin(h)}.ToSRGB8()
		nc := NamedColor{Name: "custom", R: r, G: g, B: b}
		return nc, colour.DeltaE2000(lab, colour.FromSRGB8(r, g, b), colour.Reference)
	}
	lo, hi := 0.0, 2.0
	for range 40 {
		mid := (lo + hi) / 2
		if _, d := at(mid); d < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	if target == 0 {
		return c, 0
	}
	return at(hi)
}

// mismatch replaces round(s·n) clauses of the scene by other options of their category.
func mismatch(s Scene, strength float64, r *rand.Rand) (Scene, []string) {
	out := slices.Clone(s)
	n := int(math.Round(strength * float64(len(s))))
	if strength > 0 {
		n = max(n, 1)
	}
	var changed []string
	for _, i := range r.Perm(len(s))[:min(n, len(s))] {
		opts := Options[s[i].Category]
		out[i] = pickOther(r, opts, s[i])
		changed = append(changed, s[i].Phrase+" -> "+out[i].Phrase)
	}
	slices.Sort(changed)
	return out, changed
}

// gaussianBlur blurs with a separable Gaussian kernel of standard deviation sigma
// (pixels), radius ceil(3σ), edges clamped.
func gaussianBlur(src *image.RGBA, sigma float64) *image.RGBA {
	if sigma <= 0 {
		return cloneRGBA(src)
	}
	rad := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*rad+1)
	sum := 0.0
	for i := range k {
		d := float64(i - rad)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	tmp := make([]float64, 3*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				acc := 0.0
				for i, kv := range k {
					xx := min(max(x+i-rad, 0), w-1)
					acc += kv * float64(src.Pix[src.PixOffset(xx, y)+c])
				}
				tmp[3*(y*w+x)+c] = acc
			}
		}
	}
	dst := image.NewRGBA(src.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				acc := 0.0
				for i, kv := range k {
					yy := min(max(y+i-rad, 0), h-1)
					acc += kv * tmp[3*(yy*w+x)+c]
				}
				dst.Pix[dst.PixOffset(x, y)+c] = uint8(math.Round(min(255, max(0, acc))))
			}
			dst.Pix[dst.PixOffset(x, y)+3] = 255
		}
	}
	return dst
}

func addNoise(src *image.RGBA, sigma float64, r *rand.Rand) *image.RGBA {
	dst := cloneRGBA(src)
	for i := range dst.Pix {
		if i%4 == 3 {
			continue
		}
		dst.Pix[i] = uint8(math.Round(min(255, max(0, float64(dst.Pix[i])+sigma*r.NormFloat64()))))
	}
	return dst
}

func jpegRoundTrip(src *image.RGBA, quality int) *image.RGBA {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: quality}); err != nil {
		return cloneRGBA(src) // encoding to memory cannot fail for an RGBA image
	}
	img, err := jpeg.Decode(&buf)
	if err != nil {
		return cloneRGBA(src)
	}
	dst := image.NewRGBA(src.Rect)
	draw.Draw(dst, dst.Rect, img, img.Bounds().Min, draw.Src)
	return dst
}

// blend mixes src towards other (flat mid-gray when nil) by t.
func blend(src, other *image.RGBA, t float64) *image.RGBA {
	dst := cloneRGBA(src)
	for i := range dst.Pix {
		if i%4 == 3 {
			continue
		}
		o := 128.0
		if other != nil {
			o = float64(other.Pix[i])
		}
		dst.Pix[i] = uint8(math.Round((1-t)*float64(src.Pix[i]) + t*o))
	}
	return dst
}

func cloneRGBA(src *image.RGBA) *image.RGBA {
	dst := image.NewRGBA(src.Rect)
	copy(dst.Pix, src.Pix)
	return dst
}
