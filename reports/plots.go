package reports

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/charisbench/charisbench/charis"
)

// Plot sizes.
const (
	barsWidth, barsHeight   = 18 * vg.Centimeter, 10 * vg.Centimeter
	tradeWidth, tradeHeight = 14 * vg.Centimeter, 11 * vg.Centimeter
	distWidth, distHeight   = 24 * vg.Centimeter, 17 * vg.Centimeter
	pngDPI                  = 150
)

// barColumns are the metrics the grouped bar chart shows.
var barColumns = append(Columns[:1:1], Columns[2:7]...) // CHARIS and the five axes

// groupedBars draws one bar per (metric, variant) with its interval as a whisker.
type groupedBars struct {
	rows  []Row
	width float64 // of the whole group, in data units (metric i spans i ± width/2)
}

func (g *groupedBars) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	n := len(g.rows)
	bw := g.width / float64(n)
	for vi, r := range g.rows {
		col := plotutil.Color(vi)
		for mi, m := range barColumns {
			s, ok := r.Stat(m.Key)
			if !ok {
				continue
			}
			x0 := float64(mi) - g.width/2 + float64(vi)*bw
			x1 := x0 + bw*0.9
			pts := []vg.Point{{X: tx(x0), Y: ty(0)}, {X: tx(x1), Y: ty(0)}, {X: tx(x1), Y: ty(s.Mean)}, {X: tx(x0), Y: ty(s.Mean)}}
			c.FillPolygon(col, c.ClipPolygonY(pts))
			xm := tx((x0 + x1) / 2)
			ls := draw.LineStyle{Color: color.Black, Width: vg.Points(0.8)}
			c.StrokeLine2(ls, xm, ty(s.CI[0]), xm, ty(s.CI[1]))
			cap := (tx(x1) - tx(x0)) / 4
			c.StrokeLine2(ls, xm-cap, ty(s.CI[0]), xm+cap, ty(s.CI[0]))
			c.StrokeLine2(ls, xm-cap, ty(s.CI[1]), xm+cap, ty(s.CI[1]))
		}
	}
}

func (g *groupedBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(len(barColumns)) - 0.5, 0, 1
}

// BarsPlot is CHARIS and each axis per variant: bars of the mean with 95% intervals.
func BarsPlot(rows []Row) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "CHARIS and its axes per variant (bars: mean; whiskers: 95% bootstrap interval)"
	p.Y.Label.Text = "score (0-1, higher is better)"
	p.Y.Min, p.Y.Max = 0, 1.05
	names := make([]string, len(barColumns))
	for i, c := range barColumns {
		names[i] = c.Head
	}
	p.NominalX(names...)
	p.Add(plotter.NewGrid())
	p.Add(&groupedBars{rows: rows, width: 0.8})
	return p, nil // the variants' colours are in the legend strip saveTiles draws below
}

// errPoints carries points with asymmetric errors for gonum's error bars.
type errPoints struct {
	plotter.XYs
	xlo, xhi, ylo, yhi []float64
}

func (e errPoints) XError(i int) (float64, float64) { return e.xlo[i], e.xhi[i] }
func (e errPoints) YError(i int) (float64, float64) { return e.ylo[i], e.yhi[i] }

// TradeoffPlot puts each variant at (IC, TD) with both intervals: keeping identity against
// transforming it. Variants are told apart by colour and marker (legend strip below).
func TradeoffPlot(rows []Row) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Identity consistency vs transformation diversity (95% intervals)"
	p.X.Label.Text = "IC (identity consistency, 0-1)"
	p.Y.Label.Text = "TD (transformation diversity, 0-1)"
	p.Add(plotter.NewGrid())
	n := 0
	for vi, r := range rows {
		ic, ok1 := r.Stat("ic")
		td, ok2 := r.Stat("td")
		if !ok1 || !ok2 {
			continue
		}
		pts := errPoints{XYs: plotter.XYs{{X: ic.Mean, Y: td.Mean}},
			xlo: []float64{ic.Mean - ic.CI[0]}, xhi: []float64{ic.CI[1] - ic.Mean},
			ylo: []float64{td.Mean - td.CI[0]}, yhi: []float64{td.CI[1] - td.Mean}}
		sc, err := plotter.NewScatter(pts.XYs)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: plotutil.Color(vi), Radius: vg.Points(4.5), Shape: plotutil.Shape(vi)}
		xe, err := plotter.NewXErrorBars(pts)
		if err != nil {
			return nil, err
		}
		ye, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return nil, err
		}
		xe.Color, ye.Color = plotutil.Color(vi), plotutil.Color(vi)
		p.Add(xe, ye, sc)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("no variant has scored samples")
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.02, 1.02, -0.02, 1.02 // points at 0 or 1 stay whole
	return p, nil
}

// DistributionPlots are box plots of CHARIS and each axis over a variant's samples: one
// panel per metric, one box per variant.
func DistributionPlots(rows []Row) ([][]*plot.Plot, error) {
	var panels [][]*plot.Plot
	for i, m := range barColumns {
		p := plot.New()
		p.Title.Text = m.Head
		p.Y.Min, p.Y.Max = 0, 1
		if i%3 == 0 {
			p.Y.Label.Text = "score (0-1)"
		}
		names := make([]string, len(rows))
		for vi, r := range rows {
			names[vi] = r.Label
			var vals plotter.Values
			for _, s := range r.Run.Samples {
				if s.Variant == r.Variant && s.Status == charis.StatusOK {
					v, _ := s.Value(m.Key)
					vals = append(vals, v)
				}
			}
			if len(vals) == 0 {
				continue
			}
			b, err := plotter.NewBoxPlot(vg.Points(14), float64(vi), vals)
			if err != nil {
				return nil, err
			}
			b.FillColor = plotutil.Color(vi)
			p.Add(b)
		}
		p.NominalX(names...)
		p.X.Tick.Label.Rotation = math.Pi / 5 // variant names, slanted so that long ones do not collide
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
		if i%3 == 0 {
			panels = append(panels, nil)
		}
		panels[len(panels)-1] = append(panels[len(panels)-1], p)
	}
	return panels, nil
}

// legendKind says how the strip below a figure names the variants.
type legendKind int

const (
	colourLegend legendKind = iota // colour swatch and label
	markerLegend                   // colour, marker and label
)

// saveTiles draws plots in a grid above a legend strip of the rows, PNG or SVG by the
// path's extension.
func saveTiles(plots [][]*plot.Plot, w, h vg.Length, path string, legend []Row, kind legendKind) error {
	var c interface {
		vg.CanvasSizer
		io.WriterTo
	}
	switch filepath.Ext(path) {
	case ".png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI))}
	case ".svg":
		c = vgsvg.New(w, h)
	default:
		return fmt.Errorf("%s: want a .png or .svg file", path)
	}
	dc := draw.New(c)
	lh := vg.Points(13)*vg.Length(math.Ceil(float64(len(legend))/3)) + vg.Points(8)
	drawLegend(draw.Crop(dc, 0, 0, 0, -(h-lh)), legend, kind)
	dc = draw.Crop(dc, 0, 0, lh, 0)
	t := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, t, dc)
	for i := range plots {
		for j := range plots[i] {
			if plots[i][j] != nil {
				plots[i][j].Draw(canvases[i][j])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// drawLegend names the rows in three columns, each with its colour (and marker).
func drawLegend(c draw.Canvas, rows []Row, kind legendKind) {
	sty := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(9)), Handler: plot.DefaultTextHandler}
	colW := (c.Max.X - c.Min.X) / 3
	for i, r := range rows {
		x := c.Min.X + vg.Millimeter*4 + colW*vg.Length(i%3)
		y := c.Max.Y - vg.Points(13)*vg.Length(i/3+1)
		sw := vg.Points(8)
		if kind == markerLegend {
			c.DrawGlyph(draw.GlyphStyle{Color: plotutil.Color(i), Radius: vg.Points(4), Shape: plotutil.Shape(i)}, vg.Point{X: x + sw/2, Y: y + sw/2})
		} else {
			c.FillPolygon(plotutil.Color(i), []vg.Point{{X: x, Y: y}, {X: x + sw, Y: y}, {X: x + sw, Y: y + sw}, {X: x, Y: y + sw}})
		}
		c.FillText(sty, vg.Point{X: x + sw + vg.Points(4), Y: y}, r.Label)
	}
}

// WritePlots saves bars, trade-off and distribution plots as PNG and SVG into dir and
// returns the files written: none when no variant has a scored sample to draw.
func WritePlots(dir string, rows []Row) ([]string, error) {
	scored := false
	for _, r := range rows {
		scored = scored || r.Summary.CHARIS != nil
	}
	if !scored {
		return nil, nil
	}
	bars, err := BarsPlot(rows)
	if err != nil {
		return nil, err
	}
	trade, err := TradeoffPlot(rows)
	if err != nil {
		return nil, err
	}
	dist, err := DistributionPlots(rows)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, ext := range []string{".png", ".svg"} {
		for _, f := range []struct {
			name string
			save func(string) error
		}{
			{"bars", func(p string) error {
				return saveTiles([][]*plot.Plot{{bars}}, barsWidth, barsHeight, p, rows, colourLegend)
			}},
			{"tradeoff", func(p string) error {
				return saveTiles([][]*plot.Plot{{trade}}, tradeWidth, tradeHeight, p, rows, markerLegend)
			}},
			{"distributions", func(p string) error { return saveTiles(dist, distWidth, distHeight, p, rows, colourLegend) }},
		} {
			p := filepath.Join(dir, f.name+ext)
			if err := f.save(p); err != nil {
				return nil, err
			}
			files = append(files, p)
		}
	}
	return files, nil
}
