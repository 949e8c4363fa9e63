// Package world is charis-world: a procedurally generated world of characters in which
// every identity attribute and every transformation is known, so each CHARIS axis can be
// checked against ground truth, the generator can train on it, and the demo runs on a CPU.
//
// It promises: rendering is a pure function of (identity, transformations, size) —
// the same inputs give byte-identical pixels and masks; masks are exact (a pixel belongs to
// the part whose shape covers its centre; there is no anti-aliasing); and each
// transformation changes only what its phrase says (a background change leaves subject
// pixels equal, a recolour changes only its part).
package world

import (
	"math/rand/v2"
	"sort"
)

// Part is a region of a rendered image. Part maps store these values.
type Part uint8

// Parts of a rendered image. Subject parts are Head through Accessory.
const (
	Background Part = iota
	Head
	Torso
	Arms
	Legs
	Accessory
	Occluder
)

var partNames = [...]string{"background", "head", "torso", "arms", "legs", "accessory", "occluder"}

func (p Part) String() string { return partNames[p] }

// IsSubject reports whether the part belongs to the character.
func (p Part) IsSubject() bool { return p >= Head && p <= Accessory }

// BodyParts are the parts that always have their own colour.
var BodyParts = []Part{Head, Torso, Arms, Legs}

// NamedColor is a colour with the name prompts and reports use.
type NamedColor struct {
	Name string `json:"name"`
	R    uint8  `json:"r"`
	G    uint8  `json:"g"`
	B    uint8  `json:"b"`
}

// Palette holds the colours body parts take: saturated and far apart.
var Palette = []NamedColor{
	{"red", 214, 48, 49}, {"orange", 240, 140, 30}, {"yellow", 236, 204, 40},
	{"green", 56, 166, 72}, {"teal", 26, 156, 160}, {"blue", 44, 92, 206},
	{"purple", 128, 64, 186}, {"pink", 232, 112, 168}, {"brown", 134, 88, 52},
	{"gray", 120, 124, 130},
}

// Accent colours: accessories and patterns.
var accents = []NamedColor{{"black", 34, 34, 38}, {"white", 246, 246, 240}, {"gold", 212, 175, 55}, {"navy", 30, 40, 96}}

// Attribute values. Each is a small discrete set so identities can be swapped one
// attribute at a time.
var (
	HeadShapes  = []string{"circle", "square", "triangle"}
	TorsoShapes = []string{"rectangle", "ellipse", "trapezoid"}
	Builds      = []string{"slim", "average", "stocky"}
	Heights     = []string{"short", "tall"}
	Accessories = []string{"none", "hat", "scarf", "glasses"}
	Patterns    = []string{"plain", "stripes", "dots", "checker"}
)

// Identity is everything that makes a character itself.
type Identity struct {
	HeadShape      string     `json:"head_shape"`
	TorsoShape     string     `json:"torso_shape"`
	Build          string     `json:"build"`
	Height         string     `json:"height"`
	HeadColor      NamedColor `json:"head_color"`
	TorsoColor     NamedColor `json:"torso_color"`
	ArmsColor      NamedColor `json:"arms_color"`
	LegsColor      NamedColor `json:"legs_color"`
	Accessory      string     `json:"accessory"`
	AccessoryColor NamedColor `json:"accessory_color"`
	Pattern        string     `json:"pattern"`
	PatternColor   NamedColor `json:"pattern_color"`
}

// Attributes names what an identity swap can change, in a fixed order.
var Attributes = []string{"head_shape", "torso_shape", "proportions", "head_color", "torso_color",
	"arms_color", "legs_color", "accessory", "pattern"}

// NewIdentity draws a character: four distinct body colours, and every other attribute
// uniformly.
func NewIdentity(r *rand.Rand) Identity {
	cols := r.Perm(len(Palette))
	return Identity{
		HeadShape:      pick(r, HeadShapes),
		TorsoShape:     pick(r, TorsoShapes),
		Build:          pick(r, Builds),
		Height:         pick(r, Heights),
		HeadColor:      Palette[cols[0]],
		TorsoColor:     Palette[cols[1]],
		ArmsColor:      Palette[cols[2]],
		LegsColor:      Palette[cols[3]],
		Accessory:      pick(r, Accessories),
		AccessoryColor: pick(r, accents),
		Pattern:        pick(r, Patterns),
		PatternColor:   pick(r, accents),
	}
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// pickOther draws a value different from cur.
func pickOther[T comparable](r *rand.Rand, xs []T, cur T) T {
	for {
		if v := pick(r, xs); v != cur {
			return v
		}
	}
}

// Color returns the base colour of a subject part.
func (id *Identity) Color(p Part) NamedColor {
	switch p {
	case Head:
		return id.HeadColor
	case Torso:
		return id.TorsoColor
	case Arms:
		return id.ArmsColor
	case Legs:
		return id.LegsColor
	case Accessory:
		return id.AccessoryColor
	}
	return NamedColor{} // background and occluder have no identity colour
}

// SetColor replaces a subject part's colour; other parts are left alone.
func (id *Identity) SetColor(p Part, c NamedColor) {
	switch p {
	case Head:
		id.HeadColor = c
	case Torso:
		id.TorsoColor = c
	case Arms:
		id.ArmsColor = c
	case Legs:
		id.LegsColor = c
	case Accessory:
		id.AccessoryColor = c
	}
}

// Swap returns a copy with k attributes (chosen by r) changed to other values, and the
// names of the changed attributes in Attributes order. Body colours stay distinct.
func (id Identity) Swap(r *rand.Rand, k int) (Identity, []string) {
	k = min(max(k, 0), len(Attributes))
	chosen := r.Perm(len(Attributes))[:k]
	sort.Ints(chosen)
	out := id
	var names []string
	for _, i := range chosen {
		switch Attributes[i] {
		case "head_shape":
			out.HeadShape = pickOther(r, HeadShapes, out.HeadShape)
		case "torso_shape":
			out.TorsoShape = pickOther(r, TorsoShapes, out.TorsoShape)
		case "proportions":
			b, h := out.Build, out.Height
			for b == out.Build && h == out.Height {
				b, h = pick(r, Builds), pick(r, Heights)
			}
			out.Build, out.Height = b, h
		case "head_color", "torso_color", "arms_color", "legs_color":
			part := BodyParts[i-3]
			out.SetColor(part, out.unusedColor(r))
		case "accessory":
			out.Accessory = pickOther(r, Accessories, out.Accessory)
		case "pattern":
			out.Pattern = pickOther(r, Patterns, out.Pattern)
		}
		names = append(names, Attributes[i])
	}
	return out, names
}

// unusedColor draws a palette colour no body part has.
func (id *Identity) unusedColor(r *rand.Rand) NamedColor {
	for {
		c := pick(r, Palette)
		used := false
		for _, p := range BodyParts {
			used = used || id.Color(p).Name == c.Name
		}
		if !used {
			return c
		}
	}
}
