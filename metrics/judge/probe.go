package judge

import (
	"context"
	"fmt"
	"image"
	"math"
	"slices"
	"strings"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/colour"
	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/charis/world"
	"github.com/charisbench/charisbench/metrics/encoder"
)

// ProbeOptions set where the probe calls an attribute changed.
type ProbeOptions struct {
	// ColourDeltaE is the CIEDE2000 distance between the colours read off the reference and
	// the generated image above which a body colour counts as changed; 0: the default.
	ColourDeltaE float64
	// ClassDoubt: a class attribute counts as changed when the generated image's most likely
	// value differs from the reference's and gives the reference's value a probability
	// below this; 0: the default.
	ClassDoubt float64
}

// DefaultProbeOptions were chosen on charis-world's train split (docs/judge.md), never on
// a benchmark the figures are reported on.
var DefaultProbeOptions = ProbeOptions{ColourDeltaE: 20, ClassDoubt: 0.05}

// Probe is the probe backend: the model manifest's attributes model reads a character's
// attributes off each image, and a check is kept where reference and generated image
// agree. It knows charis-world's characters only; other types are an error.
type Probe struct {
	sess     *encoder.Session
	heads    []charis.AttributeHead
	opt      ProbeOptions
	maxPixel int
	name     string
}

// NewProbe loads the attributes model of m.
func NewProbe(rt *encoder.Runtime, m *charis.ModelManifest, opt ProbeOptions, maxPixels int) (*Probe, error) {
	spec := m.Encoder(charis.RoleAttrs)
	if spec == nil {
		return nil, fmt.Errorf("%s: the probe backend needs an attributes model (charis-world's benchmarks ship one)", m.Path())
	}
	for _, want := range []string{"head_shape", "torso_shape", "build", "height", "accessory", "pattern", "style",
		"head_color", "torso_color", "arms_color", "legs_color"} {
		if !slices.ContainsFunc(spec.Heads, func(h charis.AttributeHead) bool { return h.Name == want }) {
			return nil, m.Errorf(spec, "heads", "no head %q: the probe reads charis-world's character attributes", want)
		}
	}
	s, err := rt.Load(m, charis.RoleAttrs)
	if err != nil {
		return nil, err
	}
	if opt.ColourDeltaE <= 0 {
		opt.ColourDeltaE = DefaultProbeOptions.ColourDeltaE
	}
	if opt.ClassDoubt <= 0 {
		opt.ClassDoubt = DefaultProbeOptions.ClassDoubt
	}
	return &Probe{sess: s, heads: spec.Heads, opt: opt, maxPixel: maxPixels, name: spec.Name}, nil
}

// Close releases the model.
func (p *Probe) Close() error { return p.sess.Close() }

// Name is the backend's name.
func (p *Probe) Name() string { return "probe" }

// Model is the attributes model's name in the manifest.
func (p *Probe) Model() string { return p.name }

// reading is what the probe reads off one image: per class head the most likely value
// and every value's probability, per RGB head the colour.
type reading struct {
	class map[string]string
	prob  map[string]map[string]float64
	rgb   map[string][3]uint8
}

func (p *Probe) read(row []float32) reading {
	r := reading{class: map[string]string{}, prob: map[string]map[string]float64{}, rgb: map[string][3]uint8{}}
	at := 0
	for _, h := range p.heads {
		v := row[at : at+h.Width()]
		at += h.Width()
		if h.RGB {
			var c [3]uint8
			for i := range c {
				c[i] = uint8(math.Round(255 * min(1, max(0, float64(v[i])))))
			}
			r.rgb[h.Name] = c
			continue
		}
		best := 0
		for i := range v {
			if v[i] > v[best] {
				best = i
			}
		}
		r.class[h.Name] = h.Values[best]
		z := 0.0
		for i := range v {
			z += math.Exp(float64(v[i] - v[best]))
		}
		r.prob[h.Name] = map[string]float64{}
		for i, name := range h.Values {
			r.prob[h.Name][name] = math.Exp(float64(v[i]-v[best])) / z
		}
	}
	return r
}

// Judge reads both images and compares them check by check.
func (p *Probe) Judge(_ context.Context, s *Sample) ([]charis.JudgeCheck, error) {
	if s.Type.Name != world.Class {
		return nil, fmt.Errorf("the probe judges charis-world characters only, not a %s (use the vlm backend)", s.Type.Name)
	}
	var imgs []*image.RGBA
	for _, im := range []struct {
		field string
		img   Image
	}{{"reference", s.Reference}, {"generated", s.Generated}} {
		img, err := imageio.Decode(im.img.Data, im.field, imageio.Options{MaxPixels: p.maxPixel})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", im.field, err)
		}
		imgs = append(imgs, img)
	}
	t, err := p.sess.EncodeImages(imgs)
	if err != nil {
		return nil, err
	}
	return p.compare(p.read(t.Row(0)), p.read(t.Row(1)), s.Prompt), nil
}

// charis-world's styles hide some attributes (world.Draw): every style drops the pattern,
// and a pencil sketch is gray (an outline keeps each part's colour on its edges).
var noColour = []string{"sketch"}

// styled reports whether a style (not "none") is drawn.
func styled(style string) bool { return style != "" && style != "none" }

// compare answers the character type's checks from the two readings.
func (p *Probe) compare(r, g reading, prompt string) []charis.JudgeCheck {
	out := []charis.JudgeCheck{{Attribute: CheckType, Verdict: charis.VerdictKept, Was: world.Class, Became: world.Class,
		Evidence: "charis-world draws characters only"}}
	style := charis.JudgeCheck{Attribute: CheckStyle, Verdict: charis.VerdictKept, Was: r.class["style"], Became: g.class["style"]}
	if style.Was != style.Became {
		style.Verdict = charis.VerdictDrifted
		if strings.Contains(strings.ToLower(prompt), style.Became) {
			style.Verdict = charis.VerdictRequested
		}
	}
	out = append(out, style)
	// differs: the generated image reads otherwise, and doubts the reference's value.
	differs := func(head string) bool {
		return r.class[head] != g.class[head] && g.prob[head][r.class[head]] < p.opt.ClassDoubt
	}
	class := func(name string, heads ...string) charis.JudgeCheck {
		var was, became []string
		c := charis.JudgeCheck{Attribute: name, Verdict: charis.VerdictKept}
		for _, h := range heads {
			was, became = append(was, r.class[h]), append(became, g.class[h])
			if differs(h) {
				c.Verdict = charis.VerdictDrifted
			}
		}
		c.Was, c.Became = strings.Join(was, ", "), strings.Join(became, ", ")
		if c.Was != c.Became {
			c.Evidence = fmt.Sprintf("probability the generated image shows %s: %.2f", c.Was, probAll(g, heads, r))
		}
		return c
	}
	out = append(out, class("head_shape", "head_shape"), class("torso_shape", "torso_shape"),
		class("proportions", "build", "height"), class("accessory", "accessory"))
	pattern := class("pattern", "pattern")
	if styled(r.class["style"]) || styled(g.class["style"]) {
		pattern.Verdict, pattern.Became, pattern.Evidence = charis.VerdictNotVisible, "", "a drawing style without patterns"
	}
	out = append(out, pattern)
	hidden := slices.Contains(noColour, g.class["style"]) || slices.Contains(noColour, r.class["style"])
	for _, a := range []string{"head_color", "torso_color", "arms_color", "legs_color"} {
		rc, gc := r.rgb[a], g.rgb[a]
		c := charis.JudgeCheck{Attribute: a, Verdict: charis.VerdictKept, Was: colourName(rc), Became: colourName(gc)}
		d := colour.DeltaE2000(colour.FromSRGB8(rc[0], rc[1], rc[2]), colour.FromSRGB8(gc[0], gc[1], gc[2]), colour.Reference)
		c.Evidence = fmt.Sprintf("ΔE00 %.1f (changed above %.0f)", d, p.opt.ColourDeltaE)
		switch {
		case hidden:
			c.Verdict, c.Became, c.Evidence = charis.VerdictNotVisible, "", "drawn in gray"
		case d > p.opt.ColourDeltaE:
			c.Verdict = charis.VerdictDrifted
		}
		out = append(out, c)
	}
	return out
}

// probAll is the probability g gives r's values of heads, taken as independent.
func probAll(g reading, heads []string, r reading) float64 {
	p := 1.0
	for _, h := range heads {
		p *= g.prob[h][r.class[h]]
	}
	return p
}

// colourName names an RGB colour by the nearest palette colour, with its hex.
func colourName(c [3]uint8) string {
	lab := colour.FromSRGB8(c[0], c[1], c[2])
	best, bestD := "", math.Inf(1)
	for _, p := range world.Palette {
		if d := colour.DeltaE2000(lab, colour.FromSRGB8(p.R, p.G, p.B), colour.Reference); d < bestD {
			best, bestD = p.Name, d
		}
	}
	return fmt.Sprintf("%s (#%02x%02x%02x)", best, c[0], c[1], c[2])
}
