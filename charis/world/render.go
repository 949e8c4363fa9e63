package world

import (
	"image"
	"math"
)

// Render is a rendered image with its exact part map.
type Render struct {
	Image *image.RGBA
	Parts []Part // Size·Size, row-major: the part under each pixel's centre
	Size  int
}

// Mask is the subject mask: 255 where a visible subject part is, 0 elsewhere.
func (r *Render) Mask() *image.Gray {
	m := image.NewGray(image.Rect(0, 0, r.Size, r.Size))
	for i, p := range r.Parts {
		if p.IsSubject() {
			m.Pix[i] = 255
		}
	}
	return m
}

// PartImage stores the part map as gray values equal to the Part constants.
func (r *Render) PartImage() *image.Gray {
	m := image.NewGray(image.Rect(0, 0, r.Size, r.Size))
	for i, p := range r.Parts {
		m.Pix[i] = uint8(p)
	}
	return m
}

// Geometry, in figure units: the image spans [-1, 1] on both axes (y down) before any
// scale or position change, so one unit is half the image side.
const (
	headRadius     = 0.19
	eyeRadius      = 0.2 * headRadius
	eyeSpacing     = 0.38 * headRadius
	turnEyeShift   = 0.35 * headRadius // a turned head shows its eyes off-centre
	turnTorsoScale = 0.85              // and a narrower torso
	tiltDegrees    = 20
	smallScale     = 0.62
	largeScale     = 1.22
	positionShiftX = 0.4
	positionShiftY = 0.35
	shadingRange   = 0.10 // default shading: 5% lighter at the top to 5% darker at the feet
)

// Colours of things that are not the character.
var (
	canvasColor   = [3]uint8{248, 248, 248}
	eyeColor      = [3]uint8{25, 25, 30}
	occluderColor = [3]uint8{160, 110, 60}
	occluderEdge  = [3]uint8{110, 75, 40}
	backgrounds   = map[string][3]uint8{
		"green": {170, 220, 170}, "blue": {170, 195, 235}, "yellow": {245, 235, 160},
		"pink": {245, 190, 215}, "gray": {185, 185, 190},
	}
	stars = [][2]float64{{-0.8, -0.85}, {-0.45, -0.6}, {-0.1, -0.9}, {0.3, -0.7}, {0.7, -0.88},
		{0.85, -0.4}, {-0.9, -0.2}, {0.55, -0.15}, {-0.65, 0.35}, {0.9, 0.3}, {-0.3, 0.8}, {0.4, 0.85}}
)

type point struct{ x, y float64 }

type segment struct{ a, b point }

// figure is the character's geometry, centred vertically on the canvas.
type figure struct {
	id           *Identity
	tw, th       float64 // torso width and height; the torso is centred at (0, 0)
	limb         float64 // limb radius
	head         point   // head centre
	headSquash   float64 // horizontal scale of the head (turned heads are narrower)
	eyes         [2]point
	arms, legs   [2]segment
	top, height  float64 // vertical extent of the body, for shading
	centerOffset float64 // subtracted from y so the body is centred
}

func newFigure(id *Identity, turn string) *figure {
	f := &figure{id: id, headSquash: 1}
	switch id.Build {
	case "slim":
		f.tw, f.limb = 0.30, 0.045
	case "stocky":
		f.tw, f.limb = 0.50, 0.07
	default:
		f.tw, f.limb = 0.40, 0.055
	}
	legLen := 0.46
	f.th = 0.56
	if id.Height == "short" {
		f.th, legLen = 0.48, 0.32
	}
	eyeShift := 0.0
	switch turn {
	case "turn_left":
		eyeShift, f.headSquash = -turnEyeShift, 0.92
		f.tw *= turnTorsoScale
	case "turn_right":
		eyeShift, f.headSquash = turnEyeShift, 0.92
		f.tw *= turnTorsoScale
	}
	top := -f.th/2 - 1.95*headRadius
	bottom := f.th/2 + legLen + f.limb
	f.centerOffset = (top + bottom) / 2
	f.top, f.height = top, bottom-top
	f.head = point{0, -f.th/2 - 0.95*headRadius}
	eyeY := f.head.y - 0.1*headRadius
	f.eyes = [2]point{{-eyeSpacing + eyeShift, eyeY}, {eyeSpacing + eyeShift, eyeY}}
	shoulder := -f.th/2 + 0.07
	f.arms = [2]segment{
		{point{-f.tw/2 + f.limb, shoulder}, point{-f.tw/2 - 0.10, shoulder + 0.36}}, // left arm down
		{point{f.tw/2 - f.limb, shoulder}, point{f.tw/2 + 0.22, shoulder - 0.23}},   // right arm raised
	}
	hip := f.th/2 - 0.03
	f.legs = [2]segment{
		{point{-f.tw / 4, hip}, point{-f.tw/4 - 0.02, f.th/2 + legLen}},
		{point{f.tw / 4, hip}, point{f.tw/4 + 0.02, f.th/2 + legLen}},
	}
	return f
}

// hit returns the part under figure point p and its unlit colour; ok is false off the
// character. flat drops shading and pattern.
func (f *figure) hit(p point, flat bool) (Part, [3]uint8, bool) {
	id := f.id
	dh := point{(p.x - f.head.x) / f.headSquash, p.y - f.head.y}
	for _, e := range f.eyes {
		d := math.Hypot(p.x-e.x, p.y-e.y)
		if id.Accessory == "glasses" && d >= 1.3*eyeRadius && d <= 1.9*eyeRadius {
			return Accessory, rgb(id.AccessoryColor), true
		}
		if d <= eyeRadius {
			return Head, eyeColor, true
		}
	}
	if id.Accessory == "glasses" && math.Abs(p.y-f.eyes[0].y) <= 0.25*eyeRadius &&
		p.x > f.eyes[0].x+1.6*eyeRadius && p.x < f.eyes[1].x-1.6*eyeRadius {
		return Accessory, rgb(id.AccessoryColor), true
	}
	if id.Accessory == "hat" {
		crown := math.Abs(dh.x) <= 0.75*headRadius && dh.y >= -1.75*headRadius && dh.y <= -0.7*headRadius
		brim := math.Abs(dh.x) <= 1.25*headRadius && dh.y >= -0.92*headRadius && dh.y <= -0.7*headRadius
		if crown || brim {
			return Accessory, rgb(id.AccessoryColor), true
		}
	}
	if inHead(id.HeadShape, dh) {
		return Head, f.shade(id.HeadColor, p, flat), true
	}
	if id.Accessory == "scarf" {
		band := math.Abs(p.x) <= f.tw/2+0.02 && p.y >= -f.th/2-0.02 && p.y <= -f.th/2+0.07
		tail := p.x >= f.tw/6 && p.x <= f.tw/6+0.08 && p.y >= -f.th/2 && p.y <= -f.th/2+0.24
		if band || tail {
			return Accessory, rgb(id.AccessoryColor), true
		}
	}
	if f.inTorso(p) {
		c := id.TorsoColor
		if !flat && onPattern(id.Pattern, p, f.th) {
			c = id.PatternColor
		}
		return Torso, f.shade(c, p, flat), true
	}
	for _, s := range f.arms {
		if distToSegment(p, s) <= f.limb {
			return Arms, f.shade(id.ArmsColor, p, flat), true
		}
	}
	for _, s := range f.legs {
		if distToSegment(p, s) <= f.limb {
			return Legs, f.shade(id.LegsColor, p, flat), true
		}
	}
	return Background, [3]uint8{}, false
}

func inHead(shape string, d point) bool {
	r := headRadius
	switch shape {
	case "square":
		return math.Abs(d.x) <= 0.88*r && math.Abs(d.y) <= 0.88*r
	case "triangle": // apex up, base at +0.8r
		if d.y < -r || d.y > 0.8*r {
			return false
		}
		return math.Abs(d.x) <= 1.15*r*(d.y+r)/(1.8*r)
	}
	return d.x*d.x+d.y*d.y <= r*r
}

func (f *figure) inTorso(p point) bool {
	hw, hh := f.tw/2, f.th/2
	switch f.id.TorsoShape {
	case "ellipse":
		return (p.x*p.x)/(hw*hw)+(p.y*p.y)/(hh*hh) <= 1
	case "trapezoid": // narrow shoulders, wide hips
		if math.Abs(p.y) > hh {
			return false
		}
		return math.Abs(p.x) <= hw*(0.7+0.3*(p.y+hh)/(2*hh))
	}
	return math.Abs(p.x) <= hw && math.Abs(p.y) <= hh
}

func onPattern(pattern string, p point, th float64) bool {
	const cell = 0.08
	y := p.y + th/2
	switch pattern {
	case "stripes":
		return int(math.Floor(y/cell))%2 == 1
	case "dots":
		cx, cy := math.Round(p.x/(1.25*cell))*1.25*cell, math.Round(y/(1.25*cell))*1.25*cell
		return math.Hypot(p.x-cx, y-cy) <= 0.3*cell
	case "checker":
		return (int(math.Floor(p.x/cell+100))+int(math.Floor(y/cell)))%2 == 0
	}
	return false
}

// shade darkens a colour from the top of the body to the feet.
func (f *figure) shade(c NamedColor, p point, flat bool) [3]uint8 {
	if flat {
		return rgb(c)
	}
	t := min(1, max(0, (p.y-f.top)/f.height))
	k := 1 + shadingRange/2 - shadingRange*t
	return [3]uint8{scale8(c.R, k), scale8(c.G, k), scale8(c.B, k)}
}

func rgb(c NamedColor) [3]uint8 { return [3]uint8{c.R, c.G, c.B} }

func scale8(v uint8, k float64) uint8 {
	return uint8(min(255, max(0, math.Round(float64(v)*k))))
}

func distToSegment(p point, s segment) float64 {
	dx, dy := s.b.x-s.a.x, s.b.y-s.a.y
	t := ((p.x-s.a.x)*dx + (p.y-s.a.y)*dy) / (dx*dx + dy*dy)
	t = min(1, max(0, t))
	return math.Hypot(p.x-(s.a.x+t*dx), p.y-(s.a.y+t*dy))
}

// placement maps canvas coordinates to figure coordinates (pose, scale, position).
type placement struct {
	mirror     bool
	cos, sin   float64 // rotation (tilt)
	scale      float64
	dx, dy     float64
	centerOffY float64
}

func newPlacement(s Scene, f *figure) placement {
	pl := placement{cos: 1, scale: 1, centerOffY: f.centerOffset}
	switch s.Get(Pose) {
	case "flip":
		pl.mirror = true
	case "tilt_left": // the head leans to the viewer's left: counter-clockwise on screen
		pl.sin, pl.cos = math.Sincos(-tiltDegrees * math.Pi / 180)
	case "tilt_right":
		pl.sin, pl.cos = math.Sincos(tiltDegrees * math.Pi / 180)
	}
	switch s.Get(Scale) {
	case "small":
		pl.scale = smallScale
	case "large":
		pl.scale = largeScale
	}
	switch s.Get(Position) {
	case "left":
		pl.dx = -positionShiftX
	case "right":
		pl.dx = positionShiftX
	case "top":
		pl.dy = -positionShiftY
	case "bottom":
		pl.dy = positionShiftY
	}
	return pl
}

// toFigure inverts canvas = translate(scale(rotate(mirror(figure − centre)))).
func (pl placement) toFigure(q point) point {
	x, y := (q.x-pl.dx)/pl.scale, (q.y-pl.dy)/pl.scale
	x, y = pl.cos*x+pl.sin*y, -pl.sin*x+pl.cos*y
	if pl.mirror {
		x = -x
	}
	return point{x, y + pl.centerOffY}
}

// toCanvas is the forward map, for the figure's bounding box.
func (pl placement) toCanvas(p point) point {
	x, y := p.x, p.y-pl.centerOffY
	if pl.mirror {
		x = -x
	}
	x, y = pl.cos*x-pl.sin*y, pl.sin*x+pl.cos*y
	return point{x*pl.scale + pl.dx, y*pl.scale + pl.dy}
}

// Draw renders a character in a scene on a size×size canvas.
func Draw(id Identity, s Scene, size int) *Render {
	f := newFigure(&id, s.Get(Pose))
	pl := newPlacement(s, f)
	style := s.Get(Style)
	flat := style != ""
	r := &Render{Image: image.NewRGBA(image.Rect(0, 0, size, size)), Parts: make([]Part, size*size), Size: size}
	base := make([][3]uint8, size*size) // colour before style and lighting
	box := pl.bounds(f)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			q := point{(float64(x)+0.5)*2/float64(size) - 1, (float64(y)+0.5)*2/float64(size) - 1}
			i := y*size + x
			part, c, ok := f.hit(pl.toFigure(q), flat)
			if !ok {
				c = background(s.Get(Backdrop), q)
			}
			if oc, occluded := occluder(s.Get(Occlusion), q, box); occluded {
				part, c = Occluder, oc
			}
			r.Parts[i], base[i] = part, c
		}
	}
	switch style {
	case "outline", "sketch":
		stylize(r, base, style, &id)
	}
	light := s.Get(Lighting)
	for i, c := range base {
		c = relight(light, c)
		copy(r.Image.Pix[4*i:], []uint8{c[0], c[1], c[2], 255})
	}
	return r
}

// bounds is the canvas-space bounding box of the untransformed body's corners.
func (pl placement) bounds(f *figure) [4]float64 {
	hw := f.tw/2 + 0.35
	corners := []point{{-hw, f.top}, {hw, f.top}, {-hw, f.top + f.height}, {hw, f.top + f.height}}
	b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, c := range corners {
		q := pl.toCanvas(c)
		b[0], b[1] = math.Min(b[0], q.x), math.Min(b[1], q.y)
		b[2], b[3] = math.Max(b[2], q.x), math.Max(b[3], q.y)
	}
	return b
}

func background(option string, q point) [3]uint8 {
	if c, ok := backgrounds[option]; ok {
		return c
	}
	switch option {
	case "striped":
		if int(math.Floor((q.x+1)/0.25))%2 == 0 {
			return [3]uint8{200, 215, 235}
		}
	case "checkered":
		if (int(math.Floor((q.x+1)/0.25))+int(math.Floor((q.y+1)/0.25)))%2 == 0 {
			return [3]uint8{212, 212, 218}
		}
	case "field":
		if q.y < 0.25 {
			return [3]uint8{170, 210, 240}
		}
		return [3]uint8{110, 180, 90}
	case "night":
		for _, s := range stars {
			if math.Hypot(q.x-s[0], q.y-s[1]) <= 0.025 {
				return [3]uint8{250, 250, 210}
			}
		}
		return [3]uint8{25, 30, 60}
	}
	return canvasColor
}

// occluder covers part of the subject's box: a crate over the lower right, or fence bars.
func occluder(option string, q point, b [4]float64) ([3]uint8, bool) {
	w, h := b[2]-b[0], b[3]-b[1]
	switch option {
	case "box":
		x0, y0, x1, y1 := b[0]+0.45*w, b[1]+0.55*h, b[2]+0.1, b[3]+0.1
		if q.x >= x0 && q.x <= x1 && q.y >= y0 && q.y <= y1 {
			if q.x-x0 < 0.03 || x1-q.x < 0.03 || q.y-y0 < 0.03 || y1-q.y < 0.03 {
				return occluderEdge, true
			}
			return occluderColor, true
		}
	case "fence":
		y0 := b[1] + 0.35*h
		bar := math.Mod(q.x+1, 0.3) < 0.07 && q.y >= y0
		rail := math.Abs(q.y-(b[1]+0.6*h)) <= 0.03
		if bar || rail {
			return occluderColor, true
		}
	}
	return [3]uint8{}, false
}

// stylize redraws subject pixels: an outline drawing keeps only part edges in their
// colour on white; a pencil sketch is gray, dark at edges, hatched where dark.
func stylize(r *Render, base [][3]uint8, style string, id *Identity) {
	n := r.Size
	reach := max(1, n/64) // edge thickness scales with the canvas
	edge := func(x, y int) bool {
		p := r.Parts[y*n+x]
		for d := -reach; d <= reach; d++ {
			for _, q := range [][2]int{{x + d, y}, {x, y + d}} {
				if q[0] < 0 || q[1] < 0 || q[0] >= n || q[1] >= n || r.Parts[q[1]*n+q[0]] != p {
					return true
				}
			}
		}
		return false
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			i := y*n + x
			p := r.Parts[i]
			if !p.IsSubject() {
				continue
			}
			c := base[i]
			isEdge := edge(x, y)
			if style == "outline" {
				if isEdge {
					base[i] = [3]uint8{scale8(id.Color(p).R, 0.8), scale8(id.Color(p).G, 0.8), scale8(id.Color(p).B, 0.8)}
				} else if c != eyeColor {
					base[i] = [3]uint8{250, 250, 250}
				}
				continue
			}
			lum := 0.299*float64(c[0]) + 0.587*float64(c[1]) + 0.114*float64(c[2])
			v := uint8(math.Round(255 - (255-lum)*0.3))
			if isEdge {
				v = 60
			} else if lum < 128 && ((x+y)/reach)%4 == 0 {
				v = 150
			}
			base[i] = [3]uint8{v, v, v}
		}
	}
}

func relight(option string, c [3]uint8) [3]uint8 {
	f := func(v uint8, mul, add float64) uint8 {
		return uint8(min(255, max(0, math.Round(float64(v)*mul+add))))
	}
	switch option {
	case "bright":
		return [3]uint8{f(c[0], 0.6, 102), f(c[1], 0.6, 102), f(c[2], 0.6, 102)} // 255 − 0.6·(255 − c)
	case "dim":
		return [3]uint8{f(c[0], 0.55, 0), f(c[1], 0.55, 0), f(c[2], 0.55, 0)}
	case "warm":
		return [3]uint8{f(c[0], 1.08, 10), f(c[1], 1, 0), f(c[2], 0.78, 0)}
	case "cool":
		return [3]uint8{f(c[0], 0.8, 0), f(c[1], 0.95, 0), f(c[2], 1.1, 12)}
	}
	return c
}
