package reports

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/validate"
)

// WriteValidation writes a validation into dir: validation.md, validation.json, and the
// plots purity.png (heat map of the purity matrix) and separation.png (ground truth minus
// each family, with intervals). It returns the files written.
func WriteValidation(dir string, r *validate.Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	md := filepath.Join(dir, "validation.md")
	if err := charis.WriteAtomic(md, func(f *os.File) error { return WriteValidationMarkdown(f, r) }); err != nil {
		return nil, err
	}
	js := filepath.Join(dir, "validation.json")
	if err := charis.WriteAtomic(js, func(f *os.File) error { return writeIndentedJSON(f, r) }); err != nil {
		return nil, err
	}
	files = append(files, md, js)
	heat := PurityPlot(r)
	sep, err := SeparationPlot(r)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name string
		plot *plot.Plot
		w, h vg.Length
	}{{"purity.png", heat, 18 * vg.Centimeter, 12 * vg.Centimeter}, {"separation.png", sep, 18 * vg.Centimeter, 10 * vg.Centimeter}} {
		path := filepath.Join(dir, p.name)
		if err := p.plot.Save(p.w, p.h, path); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		files = append(files, path)
	}
	return files, nil
}

var metricHeads = map[string]string{"charis": "CHARIS", "charis_geo": "CHARIS-geo", charis.AxisIC: "IC",
	charis.AxisPA: "PA", charis.AxisCF: "CF", charis.AxisVQ: "VQ", charis.AxisTD: "TD"}

// rhoCell formats a purity ρ, or – where it was not measured.
func rhoCell(p map[string]float64, m string) string {
	if rho, ok := p[m]; ok {
		return fmt.Sprintf("%+.2f", rho)
	}
	return "–"
}

// WriteValidationMarkdown writes the verdict, the separation table, monotonicity, the
// purity matrix and every check.
func WriteValidationMarkdown(w io.Writer, r *validate.Report) error {
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "# Validation of CHARIS v%d: %s\n\nRun: `%s`. %d of %d checks of charis-v2.md's targets pass.\n\n",
		r.Version, verdict, r.Run, len(r.Checks)-len(r.Failed()), len(r.Checks))
	if len(r.MaskSources) > 0 {
		fmt.Fprintf(w, "Subject masks of the scored samples: %s.", MaskSources(r.MaskSources))
		if r.GivenMasks != nil {
			fmt.Fprintf(w, " Every mask the benchmark gives was stripped, as on a user's images; the same benchmark with its masks is compared below, not gated.")
		}
		fmt.Fprintf(w, "\n\n")
	}
	fmt.Fprintf(w, "## Separation: ground truth minus each family at its top strength\n\n")
	fmt.Fprintf(w, "Paired by sample; 95%% intervals from a bootstrap over subjects. Target: CHARIS lower bound ≥ %.2f.\n\n", validate.MinSeparation)
	fmt.Fprintf(w, "| family | strength | pairs | subjects | CHARIS | CHARIS-geo | monotone | CHARIS by strength |\n|---|---:|---:|---:|---|---|---|---|\n")
	for _, f := range r.Families {
		s, m := r.Separation[f], r.Monotone[f]
		means := make([]string, len(m.Means))
		for i, x := range m.Means {
			means[i] = fmt.Sprintf("%g: %.3f", m.Strengths[i], x)
		}
		fmt.Fprintf(w, "| %s | %g | %d | %d | %s | %s | %s | %s |\n", f, s.Strength, s.Pairs, s.Subjects,
			statCell(s.Metrics, "charis"), statCell(s.Metrics, "charis_geo"), yesNo(m.Falls), strings.Join(means, ", "))
	}
	if judged := slices.ContainsFunc(r.Families, func(f string) bool { _, ok := r.Separation[f].Metrics[charis.AxisJudgeIC]; return ok }); judged {
		fmt.Fprintf(w, "\nIdentity, the embedding IC beside the judge's (validate --judge, docs/judge.md): separation (ground truth minus the family) and purity (ρ):\n\n")
		fmt.Fprintf(w, "| family | IC | judge IC | IC ρ | judge IC ρ |\n|---|---|---|---:|---:|\n")
		for _, f := range r.Families {
			s := r.Separation[f]
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", f, statCell(s.Metrics, charis.AxisIC), statCell(s.Metrics, charis.AxisJudgeIC),
				rhoCell(r.Purity[f], charis.AxisIC), rhoCell(r.Purity[f], charis.AxisJudgeIC))
		}
	}
	fmt.Fprintf(w, "\n## Purity: Spearman ρ between strength and score, pooled over samples\n\n")
	fmt.Fprintf(w, "Strength 0 is the ground truth. Negative: the metric falls as the failure grows. Targets: own axis ρ ≤ %.1f; no axis ρ > +%.1f under %s.\n\n",
		validate.MaxOwnRho, validate.MaxRiseRho, strings.Join(validate.Degradations, ", "))
	fmt.Fprintf(w, "| family |")
	for _, m := range validate.Metrics {
		fmt.Fprintf(w, " %s |", metricHeads[m])
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---:|", len(validate.Metrics)))
	for _, f := range r.Families {
		fmt.Fprintf(w, "| %s |", f)
		for _, m := range validate.Metrics {
			if rho, ok := r.Purity[f][m]; ok {
				fmt.Fprintf(w, " %+.2f |", rho)
			} else {
				fmt.Fprintf(w, " – |")
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\n## Checks\n\n| check | value | target | |\n|---|---:|---|---|\n")
	for _, c := range r.Checks {
		fmt.Fprintf(w, "| %s | %.3f | %s | %s |\n", c.Name, c.Value, c.Target, passCell(c.Pass))
	}
	if g := r.GivenMasks; g != nil {
		writeMaskPaths(w, r, g)
	}
	return nil
}

// writeMaskPaths sets the mask-free separation (the verdict's) beside the given-masks one.
func writeMaskPaths(w io.Writer, r, g *validate.Report) {
	fmt.Fprintf(w, "\n## Without masks (the verdict) and with the benchmark's masks\n\n")
	fmt.Fprintf(w, "Ground truth minus each family at its top strength, paired by sample, 95%% subject-bootstrap intervals. "+
		"With given masks (%s): %d of %d checks pass.\n\n", MaskSources(g.MaskSources), len(g.Checks)-len(g.Failed()), len(g.Checks))
	heads := []string{"charis", charis.AxisIC, charis.AxisCF}
	fmt.Fprintf(w, "| family |")
	for _, m := range heads {
		fmt.Fprintf(w, " %s, no masks | %s, given masks |", metricHeads[m], metricHeads[m])
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", 2*len(heads)))
	for _, f := range r.Families {
		fmt.Fprintf(w, "| %s |", f)
		for _, m := range heads {
			fmt.Fprintf(w, " %s | %s |", statCell(r.Separation[f].Metrics, m), statCell(g.Separation[f].Metrics, m))
		}
		fmt.Fprintln(w)
	}
	for _, c := range g.Failed() {
		fmt.Fprintf(w, "\nWith given masks, failed: %s: %.3f (want %s)", c.Name, c.Value, c.Target)
	}
	fmt.Fprintln(w)
}

// MaskSources counts samples by where their masks came from: "given 20, segmenter 640"
// ("–" for none).
func MaskSources(m map[string]int) string {
	if len(m) == 0 {
		return "–"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		name := k
		if k == "none" {
			name = "none (the whole image)"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, m[k]))
	}
	return strings.Join(parts, ", ")
}

func statCell(m map[string]charis.Stat, key string) string {
	s, ok := m[key]
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%+.3f [%+.3f, %+.3f]", s.Mean, s.CI[0], s.CI[1])
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

func passCell(b bool) string {
	if b {
		return "pass"
	}
	return "**FAIL**"
}

// heatGrid is the purity matrix as a grid of cells, ρ in [-1, 1].
type heatGrid struct{ r *validate.Report }

func (g heatGrid) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	sty := draw.TextStyle{Color: color.Black, Font: p.X.Tick.Label.Font, Handler: p.X.Tick.Label.Handler,
		XAlign: draw.XCenter, YAlign: draw.YCenter}
	for fi, f := range g.r.Families {
		for mi, m := range validate.Metrics {
			rho, ok := g.r.Purity[f][m]
			pts := []vg.Point{{X: tx(float64(mi) - 0.5), Y: ty(float64(fi) - 0.5)}, {X: tx(float64(mi) + 0.5), Y: ty(float64(fi) - 0.5)},
				{X: tx(float64(mi) + 0.5), Y: ty(float64(fi) + 0.5)}, {X: tx(float64(mi) - 0.5), Y: ty(float64(fi) + 0.5)}}
			col := color.Color(color.Gray{Y: 230})
			label := "–"
			if ok {
				col, label = divergent(rho), fmt.Sprintf("%+.2f", rho)
			}
			c.FillPolygon(col, pts)
			c.FillText(sty, vg.Point{X: tx(float64(mi)), Y: ty(float64(fi))}, label)
		}
	}
}

func (g heatGrid) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(len(validate.Metrics)) - 0.5, -0.5, float64(len(g.r.Families)) - 0.5
}

// divergent maps ρ = −1 to blue (falls, as it should under a failure), 0 to white and
// +1 to red (rises).
func divergent(rho float64) color.Color {
	t := math.Max(-1, math.Min(1, rho))
	if t < 0 {
		k := uint8(255 * (1 + t*0.75))
		return color.RGBA{R: k, G: k, B: 255, A: 255}
	}
	k := uint8(255 * (1 - t*0.75))
	return color.RGBA{R: 255, G: k, B: k, A: 255}
}

// PurityPlot is the purity matrix as a heat map: families by metrics, ρ written in each cell.
func PurityPlot(r *validate.Report) *plot.Plot {
	p := plot.New()
	p.Title.Text = "Purity: Spearman rho of strength vs score (blue: falls, red: rises)"
	heads := make([]string, len(validate.Metrics))
	for i, m := range validate.Metrics {
		heads[i] = metricHeads[m]
	}
	p.NominalX(heads...)
	p.NominalY(r.Families...)
	p.Add(heatGrid{r})
	return p
}

// SeparationPlot draws ground truth minus each family (CHARIS) with its 95% interval and
// the target line.
func SeparationPlot(r *validate.Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Ground truth minus each family at its top strength (CHARIS, 95%% intervals; target >= %.2f)", validate.MinSeparation)
	p.Y.Label.Text = "CHARIS difference"
	p.NominalX(r.Families...)
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	var pts errPoints
	for i, f := range r.Families {
		s, ok := r.Separation[f].Metrics["charis"]
		if !ok {
			continue
		}
		pts.XYs = append(pts.XYs, plotter.XY{X: float64(i), Y: s.Mean})
		pts.xlo, pts.xhi = append(pts.xlo, 0), append(pts.xhi, 0)
		pts.ylo, pts.yhi = append(pts.ylo, s.Mean-s.CI[0]), append(pts.yhi, s.CI[1]-s.Mean)
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	eb, err := plotter.NewYErrorBars(pts)
	if err != nil {
		return nil, err
	}
	target := plotter.NewFunction(func(float64) float64 { return validate.MinSeparation })
	target.Color = color.RGBA{R: 200, A: 255}
	target.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	zero := plotter.NewFunction(func(float64) float64 { return 0 })
	p.Add(plotter.NewGrid(), zero, target, eb, sc)
	p.X.Min, p.X.Max = -0.5, float64(len(r.Families))-0.5
	p.Y.Min = math.Min(0, p.Y.Min) - 0.02
	return p, nil
}

func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(v)
}
