package reports

import (
	"encoding/json"
	"fmt"
	"html/template"
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

// WriteValidation writes a validation into dir: validation.md, validation.html (the same
// tables as a page, with the plots), validation.json, and the plots purity.png (heat map of the purity matrix) and separation.png (ground truth minus
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
	page := filepath.Join(dir, "validation.html")
	if err := charis.WriteAtomic(page, func(f *os.File) error { return WriteValidationHTML(f, r) }); err != nil {
		return nil, err
	}
	js := filepath.Join(dir, "validation.json")
	if err := charis.WriteAtomic(js, func(f *os.File) error { return writeIndentedJSON(f, r) }); err != nil {
		return nil, err
	}
	files = append(files, md, page, js)
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

// vTable is one table of a validation report, rendered as Markdown and as HTML.
type vTable struct {
	Title, Note string
	Head        []string
	Rows        [][]string
}

// verdictLines are the report's opening: verdict, run, masks.
func verdictLines(r *validate.Report) (title string, lines []string) {
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	title = fmt.Sprintf("Validation of CHARIS v%d: %s", r.Version, verdict)
	lines = append(lines, fmt.Sprintf("Run: %s. %d of %d checks pass (charis-v2.md's targets and axis purity).", r.Run, len(r.Checks)-len(r.Failed()), len(r.Checks)))
	if len(r.MaskSources) > 0 {
		l := fmt.Sprintf("Subject masks of the scored samples: %s.", MaskSources(r.MaskSources))
		if r.GivenMasks != nil {
			l += " Every mask the benchmark gives was stripped, as on a user's images; the same benchmark with its masks is compared below, not gated."
		}
		lines = append(lines, l)
	}
	return title, lines
}

// validationTables lays out a validation: separation, the judge's identity (where it ran),
// the response matrix, the ground truth's IC by category, purity, every check, and the
// given-mask path beside the mask-free one.
func validationTables(r *validate.Report) []vTable {
	var ts []vTable
	sep := vTable{Title: "Separation: ground truth minus each family at its top strength",
		Note: fmt.Sprintf("Paired by sample; 95%% intervals from a bootstrap over subjects. Target: CHARIS lower bound ≥ %.2f.", validate.MinSeparation),
		Head: []string{"family", "strength", "pairs", "subjects", "CHARIS", "CHARIS-geo", "monotone", "CHARIS by strength"}}
	for _, f := range r.Families {
		s, m := r.Separation[f], r.Monotone[f]
		means := make([]string, len(m.Means))
		for i, x := range m.Means {
			means[i] = fmt.Sprintf("%g: %.3f", m.Strengths[i], x)
		}
		sep.Rows = append(sep.Rows, []string{f, fmt.Sprintf("%g", s.Strength), fmt.Sprint(s.Pairs), fmt.Sprint(s.Subjects),
			statCell(s.Metrics, "charis"), statCell(s.Metrics, "charis_geo"), yesNo(m.Falls), strings.Join(means, ", ")})
	}
	ts = append(ts, sep)
	if judged := slices.ContainsFunc(r.Families, func(f string) bool { _, ok := r.Separation[f].Metrics[charis.AxisJudgeIC]; return ok }); judged {
		j := vTable{Title: "Identity: the embedding IC beside the judge's",
			Note: "validate --judge (docs/judge.md): separation (ground truth minus the family) and purity (ρ).",
			Head: []string{"family", "IC", "judge IC", "IC ρ", "judge IC ρ"}}
		for _, f := range r.Families {
			s := r.Separation[f]
			j.Rows = append(j.Rows, []string{f, statCell(s.Metrics, charis.AxisIC), statCell(s.Metrics, charis.AxisJudgeIC),
				rhoCell(r.Purity[f], charis.AxisIC), rhoCell(r.Purity[f], charis.AxisJudgeIC)})
		}
		ts = append(ts, j)
	}
	resp := vTable{Title: "Response matrix: each axis's drop from the ground truth at full strength",
		Note: fmt.Sprintf("Ground truth minus the family, paired by sample, 95%% subject-bootstrap intervals; – where the axis does not apply. "+
			"Each axis answers its own question: under %s VQ's drop is the largest and IC's and PA's are at most %.1f of it; "+
			"identity swap and recolour move PA and VQ, prompt mismatch IC, CF and VQ, by at most %.2f.",
			strings.Join(validate.QualityFamilies, ", "), validate.MaxQualityShare, validate.MaxOffAxisMove),
		Head: []string{"family"}}
	for _, a := range charis.Axes {
		resp.Head = append(resp.Head, metricHeads[a])
	}
	for _, f := range r.Families {
		if r.Separation[f].Strength != 1 {
			continue
		}
		row := []string{f + "@1"}
		for _, a := range charis.Axes {
			row = append(row, statCell(r.Separation[f].Metrics, a))
		}
		resp.Rows = append(resp.Rows, row)
	}
	ts = append(ts, resp)
	if len(r.CategoryIC) > 0 {
		note := fmt.Sprintf("A sample counts in each category its prompt asks for. Target: mean ≥ %.1f in every category", validate.MinCategoryIC)
		if r.LowICShare != nil {
			note += fmt.Sprintf("; below %.1f: %.1f%% of all ground-truth samples (target ≤ %.0f%%)", validate.LowIC, 100**r.LowICShare, 100*validate.MaxLowICShare)
		}
		c := vTable{Title: "The ground truth's IC by the transformation its prompt asks for", Note: note + ".",
			Head: []string{"category", "samples", "mean IC", fmt.Sprintf("below %.1f", validate.LowIC)}}
		for _, ci := range r.CategoryIC {
			c.Rows = append(c.Rows, []string{ci.Category, fmt.Sprint(ci.N), fmt.Sprintf("%.3f", ci.Mean), fmt.Sprintf("%.0f%%", 100*ci.Low)})
		}
		ts = append(ts, c)
	}
	pur := vTable{Title: "Purity: Spearman ρ between strength and score, pooled over samples",
		Note: fmt.Sprintf("Strength 0 is the ground truth. Negative: the metric falls as the failure grows. Targets: own axis ρ ≤ %.1f; no axis ρ > +%.1f under %s.",
			validate.MaxOwnRho, validate.MaxRiseRho, strings.Join(validate.Degradations, ", ")),
		Head: []string{"family"}}
	for _, m := range validate.Metrics {
		pur.Head = append(pur.Head, metricHeads[m])
	}
	for _, f := range r.Families {
		row := []string{f}
		for _, m := range validate.Metrics {
			row = append(row, rhoCell(r.Purity[f], m))
		}
		pur.Rows = append(pur.Rows, row)
	}
	ts = append(ts, pur)
	checks := vTable{Title: "Checks", Head: []string{"check", "value", "target", ""}}
	for _, c := range r.Checks {
		checks.Rows = append(checks.Rows, []string{c.Name, fmt.Sprintf("%.3f", c.Value), c.Target, passCell(c.Pass)})
	}
	ts = append(ts, checks)
	if g := r.GivenMasks; g != nil {
		ts = append(ts, maskPaths(r, g))
	}
	return ts
}

// maskPaths sets the mask-free separation (the verdict's) beside the given-masks one.
func maskPaths(r, g *validate.Report) vTable {
	note := fmt.Sprintf("Ground truth minus each family at its top strength, paired by sample, 95%% subject-bootstrap intervals. "+
		"With given masks (%s): %d of %d checks pass.", MaskSources(g.MaskSources), len(g.Checks)-len(g.Failed()), len(g.Checks))
	for _, c := range g.Failed() {
		note += fmt.Sprintf(" With given masks, failed: %s: %.3f (want %s).", c.Name, c.Value, c.Target)
	}
	t := vTable{Title: "Without masks (the verdict) and with the benchmark's masks", Note: note, Head: []string{"family"}}
	heads := []string{"charis", charis.AxisIC, charis.AxisCF}
	for _, m := range heads {
		t.Head = append(t.Head, metricHeads[m]+", no masks", metricHeads[m]+", given masks")
	}
	for _, f := range r.Families {
		row := []string{f}
		for _, m := range heads {
			row = append(row, statCell(r.Separation[f].Metrics, m), statCell(g.Separation[f].Metrics, m))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// WriteValidationMarkdown writes the verdict and every table of the validation.
func WriteValidationMarkdown(w io.Writer, r *validate.Report) error {
	title, lines := verdictLines(r)
	fmt.Fprintf(w, "# %s\n\n", title)
	for _, l := range lines {
		fmt.Fprintf(w, "%s\n\n", l)
	}
	for _, t := range validationTables(r) {
		fmt.Fprintf(w, "## %s\n\n", t.Title)
		if t.Note != "" {
			fmt.Fprintf(w, "%s\n\n", t.Note)
		}
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(t.Head, " | "), strings.Repeat("---|", len(t.Head)))
		for _, row := range t.Rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
		fmt.Fprintln(w)
	}
	return nil
}

var validationPage = template.Must(template.New("validation").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f4f4f4}.scroll{overflow-x:auto;max-width:100%}
img{max-width:100%}p.note{color:#444;font-size:13px;max-width:70em}
</style></head><body>
<h1>{{.Title}}</h1>
{{range .Lines}}<p>{{.}}</p>{{end}}
{{range .Tables}}<h2>{{.Title}}</h2>{{with .Note}}<p class="note">{{.}}</p>{{end}}
<div class="scroll"><table><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table></div>
{{end}}
<h2>Plots</h2><p><img src="purity.png" alt="purity matrix"></p><p><img src="separation.png" alt="separation"></p>
</body></html>
`))

// WriteValidationHTML writes the validation as one page beside purity.png and separation.png.
func WriteValidationHTML(w io.Writer, r *validate.Report) error {
	title, lines := verdictLines(r)
	return validationPage.Execute(w, struct {
		Title  string
		Lines  []string
		Tables []vTable
	}{title, lines, validationTables(r)})
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

// yesNo and passCell mark a failure in capitals, which reads in Markdown and HTML alike.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func passCell(b bool) string {
	if b {
		return "pass"
	}
	return "FAIL"
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
