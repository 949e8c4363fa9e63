package world

import (
	"fmt"
	"image"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/charisbench/charisbench/charis/colour"
	"github.com/charisbench/charisbench/charis/perturb"
)

// Perturbation kinds, each degrading a ground-truth generation by a known strength in
// [0, 1] (0 leaves it unchanged), to check that each CHARIS axis moves the way it should.
const (
	IdentitySwap   = "identity_swap"   // round(s·9) identity attributes changed (≥ 1 when s > 0)
	Recolour       = "recolour"        // one body part recoloured by ΔE00 ≈ 40·s
	PromptMismatch = "prompt_mismatch" // round(s·n) of the prompt's n clauses swapped for others
	Blur           = perturb.Blur      // Gaussian blur, σ = 2.5·s pixels per 64 pixels of side
	Noise          = perturb.Noise     // Gaussian noise, σ = 64·s levels
	JPEG           = perturb.JPEG      // JPEG quality round(95 − 90·s)
	Blank          = perturb.Blank     // blend towards flat gray by s
	CopyPaste      = "copy_paste"      // round(s·n) of the prompt's n transformations left undone (the reference at s = 1)
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
	case Blur, Noise, JPEG, Blank:
		img, detail, err := perturb.Apply(p.Kind, sp, target.Image, r)
		if err != nil {
			panic(err) // unreachable: the case lists the image kinds
		}
		out.Render = withImage(target, img)
		maps.Copy(out.Detail, detail)
	case CopyPaste:
		if sp >= 1 {
			out.Render = ref
			break
		}
		kept, undone := undo(s, sp, r)
		out.Render = Draw(id, kept, size)
		out.Detail["undone"] = undone
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

// undo drops round(s·n) of the scene's n transformations (at least one when s > 0): a
// generator that copies the reference carries its pose, place, light and style over
// instead of the prompt's. It returns the scene that is drawn and the dropped phrases.
func undo(s Scene, strength float64, r *rand.Rand) (Scene, []string) {
	n := int(math.Round(strength * float64(len(s))))
	if strength > 0 {
		n = max(n, 1)
	}
	drop := make([]bool, len(s))
	for _, i := range r.Perm(len(s))[:min(n, len(s))] {
		drop[i] = true
	}
	var kept Scene
	var undone []string
	for i, t := range s {
		if drop[i] {
			undone = append(undone, t.Phrase)
		} else {
			kept = append(kept, t)
		}
	}
	return kept, undone
}
