package world

import (
	"math/rand/v2"
	"strings"
)

// Category groups transformations; a prompt has at most one of each.
type Category string

// Transformation categories, in the order their phrases appear in a prompt.
const (
	Pose      Category = "pose"
	Scale     Category = "scale"
	Position  Category = "position"
	Backdrop  Category = "background"
	Lighting  Category = "lighting"
	Style     Category = "style"
	Occlusion Category = "occlusion"
)

// Categories lists every category in prompt order.
var Categories = []Category{Pose, Scale, Position, Backdrop, Lighting, Style, Occlusion}

// Transform is one transformation and the phrase that asks for it.
type Transform struct {
	Category Category `json:"category"`
	Option   string   `json:"option"`
	Phrase   string   `json:"phrase"`
}

// Options lists each category's transformations with their phrases.
var Options = map[Category][]Transform{
	Pose: {
		{Pose, "turn_left", "turned left"}, {Pose, "turn_right", "turned right"},
		{Pose, "flip", "mirrored"}, {Pose, "tilt_left", "tilted left"}, {Pose, "tilt_right", "tilted right"},
	},
	Scale:    {{Scale, "small", "shown small"}, {Scale, "large", "shown large"}},
	Position: {{Position, "left", "on the left"}, {Position, "right", "on the right"}, {Position, "top", "near the top"}, {Position, "bottom", "near the bottom"}},
	Backdrop: {
		{Backdrop, "green", "on a green background"}, {Backdrop, "blue", "on a blue background"},
		{Backdrop, "yellow", "on a yellow background"}, {Backdrop, "pink", "on a pink background"},
		{Backdrop, "gray", "on a gray background"}, {Backdrop, "striped", "on a striped background"},
		{Backdrop, "checkered", "on a checkered background"}, {Backdrop, "field", "in a grassy field"},
		{Backdrop, "night", "at night"},
	},
	Lighting: {{Lighting, "bright", "in bright light"}, {Lighting, "dim", "in dim light"}, {Lighting, "warm", "in warm light"}, {Lighting, "cool", "in cool light"}},
	Style:    {{Style, "outline", "as an outline drawing"}, {Style, "flat", "in flat colours"}, {Style, "sketch", "as a pencil sketch"}},
	Occlusion: {
		{Occlusion, "box", "partly behind a box"}, {Occlusion, "fence", "behind a fence"},
	},
}

// Subject is the words a prompt uses for the character.
const Subject = "the character"

// Scene is a set of transformations, at most one per category, in prompt order.
type Scene []Transform

// Prompt is the text that asks for the scene: "the character, turned left, on a green
// background, in dim light". An empty scene asks for the character as it is.
func (s Scene) Prompt() string {
	parts := []string{Subject}
	for _, t := range s {
		parts = append(parts, t.Phrase)
	}
	return strings.Join(parts, ", ")
}

// Get returns the option of a category, or "" when the scene has none.
func (s Scene) Get(c Category) string {
	for _, t := range s {
		if t.Category == c {
			return t.Option
		}
	}
	return ""
}

// NewScene draws 1 to maxN (at most 4) transformations from distinct categories.
func NewScene(r *rand.Rand, maxN int) Scene {
	maxN = min(max(maxN, 1), 4)
	n := 1 + r.IntN(maxN)
	chosen := make([]bool, len(Categories))
	for _, i := range r.Perm(len(Categories))[:n] {
		chosen[i] = true
	}
	var s Scene
	for i, c := range Categories {
		if chosen[i] {
			s = append(s, pick(r, Options[c]))
		}
	}
	return s
}

// Lookup returns the transformation of a category and option.
func Lookup(c Category, option string) (Transform, bool) {
	for _, t := range Options[c] {
		if t.Option == option {
			return t, true
		}
	}
	return Transform{}, false
}
