package reports

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"image"
	"image/png"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/charis/preprocess"
	"github.com/charisbench/charisbench/charis/readfile"
	"github.com/charisbench/charisbench/metrics/validate"
)

// thumbSide is the long side of sample thumbnails in the HTML report.
const thumbSide = 128

// examplesPerEnd is how many best and worst samples per variant the report shows.
const examplesPerEnd = 3

type htmlCell struct {
	Text string // the mean
	Sub  string // ± half the interval, and (n=…) where an axis applies to fewer samples: a second, smaller line
	Best bool
}

type htmlRow struct {
	Label        string
	N, Failures  int
	Cells        []htmlCell
	Failed       []string
	Best, Worst  []htmlSample
	SubjectMeans []string
	Drifted      string // score --judge: the attributes judged changed unasked, with their counts
}

type htmlSample struct {
	Rank                 string // "best 1", "worst 1", ...
	ID, Prompt           string
	CHARIS               string
	Axes                 string
	Drifted              string       // the attributes the judge found changed unasked
	Reference, Generated template.URL // data: URLs, empty when the file is missing
}

type htmlSection struct {
	Section
	URL template.URL // the image's data URL
}

type htmlPage struct {
	Runs     []*charis.Run
	Heads    []string
	Rows     []htmlRow
	Plots    []template.URL
	Sections []htmlSection
	Verdict  []string // the opening lines: which variant leads, by how much, what failed
	Subjects []string
	SubjHead []string
	SubjRows [][]string
	Warnings []string
}

var page = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CHARIS report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:right}
.scroll{overflow-x:auto;max-width:100%}small{color:#666;font-size:11px}
th:first-child,td:first-child{text-align:left}th{background:#f4f4f4}td{white-space:nowrap}b{color:#05a}
.samples{display:flex;flex-wrap:wrap;gap:12px}.sample{border:1px solid #ddd;padding:6px;width:280px;font-size:12px}
.sample img{width:128px;height:128px;object-fit:contain;image-rendering:pixelated;background:#eee}
.prov th,.prov td,.section th,.section td{text-align:left}.prov td{white-space:normal;max-width:420px}.prov span{white-space:nowrap}.plots img{max-width:100%;margin:1em 0}.warn{color:#a40}.verdict{font-size:15px;margin:.3em 0}code{font-size:12px}
</style></head><body>
<h1>CHARIS report</h1>
{{range .Verdict}}<p class="verdict">{{.}}</p>{{end}}
<div class="scroll"><table class="prov"><tr><th>run</th><th>manifest</th><th>charisbench</th><th>metric config</th><th>encoders (sha256)</th></tr>
{{range .Runs}}<tr><td><code>{{.Dir}}</code></td><td><code>{{.Summary.Provenance.Manifest}}</code></td>
<td>{{.Summary.Provenance.Version}}{{with .Summary.Provenance.Commit}} ({{.}}){{end}}</td><td><code>{{printf "%.12s" .Summary.Provenance.MetricConfigHash}}</code></td>
<td>{{range $role, $sha := .Summary.Provenance.Encoders}}<span>{{$role}} <code>{{printf "%.12s" $sha}}</code></span> {{end}}</td></tr>
{{end}}</table></div>
{{range .Warnings}}<p class="warn">warning: {{.}}</p>{{end}}
<h2>Scores</h2>
<div class="scroll"><table><tr><th>variant</th><th>n</th><th>failures</th>{{range .Heads}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Label}}</td><td>{{.N}}</td><td>{{.Failures}}</td>{{range .Cells}}<td>{{if .Best}}<b>{{.Text}}</b>{{else}}{{.Text}}{{end}}{{with .Sub}}<br><small>{{.}}</small>{{end}}</td>{{end}}</tr>
{{end}}</table></div>
<p>Means over scored samples; below each, ± half the 95% bootstrap interval (subjects resampled); best per column in bold;
(n=…): the samples an axis applies to, where fewer (CF is left out where the prompt licenses a colour change).</p>
<h2>Plots</h2><div class="plots">{{range .Plots}}<img src="{{.}}" alt="plot">{{end}}</div>
{{range .Sections}}<h2>{{.Title}}</h2>{{with .Table}}<div class="scroll"><table class="section"><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table></div>{{end}}{{with .Note}}<p>{{.}}</p>{{end}}{{if .URL}}<div class="plots"><img src="{{.URL}}" alt="{{.Title}}"></div>{{end}}
{{end}}
<h2>Best and worst samples per variant (by CHARIS)</h2>
{{range .Rows}}<h3>{{.Label}}</h3>
{{if .Failed}}<p class="warn">failed: {{range .Failed}}<code>{{.}}</code> {{end}}</p>{{end}}
{{with .Drifted}}<p>identity judge, attributes changed unasked (samples): {{.}}</p>{{end}}
<div class="samples">{{range .Best}}{{template "sample" .}}{{end}}{{range .Worst}}{{template "sample" .}}{{end}}</div>
{{end}}
<h2>Per subject (mean CHARIS)</h2>
<div class="scroll"><table><tr><th>subject</th>{{range .SubjHead}}<th>{{.}}</th>{{end}}</tr>
{{range .SubjRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table></div>
</body></html>
{{define "sample"}}<div class="sample"><div>{{if .Reference}}<img src="{{.Reference}}" alt="reference">{{end}}{{if .Generated}}<img src="{{.Generated}}" alt="generated">{{end}}</div>
{{.Rank}}: <b>CHARIS {{.CHARIS}}</b> <code>{{.ID}}</code><br>{{.Axes}}{{with .Drifted}}<br><span class="warn">drifted: {{.}}</span>{{end}}<br><i>{{.Prompt}}</i></div>{{end}}
`))

// WriteHTML writes one self-contained HTML page: tables, the plots (PNG, embedded), the
// caller's sections, and thumbnails of each variant's best and worst samples with their scores.
func WriteHTML(w io.Writer, runs []*charis.Run, rows []Row, plots [][]byte, sections ...Section) error {
	pg := htmlPage{Runs: runs}
	for _, s := range sections {
		hs := htmlSection{Section: s}
		if s.PNG != nil {
			hs.URL = dataURL(s.PNG)
		}
		pg.Sections = append(pg.Sections, hs)
	}
	b := best(rows)
	for _, c := range Columns {
		pg.Heads = append(pg.Heads, c.Head)
	}
	for _, r := range runs {
		pg.Warnings = append(pg.Warnings, r.Summary.Warnings...)
	}
	for _, r := range rows {
		hr := htmlRow{Label: r.Label, N: r.Summary.N, Failures: r.Summary.Failures, Failed: r.Summary.Failed}
		for _, c := range Columns {
			s, ok := r.Stat(c.Key)
			hc := htmlCell{Text: "–", Best: ok && s.Mean == b[c.Key]}
			if ok {
				hc.Text, hc.Sub = fmt.Sprintf(meanFormat, s.Mean), "± "+fmt.Sprintf(meanFormat, halfWidth(s))
				if n, partial := r.AxisN(c.Key); partial {
					hc.Sub += fmt.Sprintf(" (n=%d)", n)
				}
			}
			hr.Cells = append(hr.Cells, hc)
		}
		hr.Best, hr.Worst = examples(r)
		var drift []string
		for _, d := range r.Summary.Drifted {
			drift = append(drift, fmt.Sprintf("%s (%d)", d.Attribute, d.Count))
		}
		hr.Drifted = strings.Join(drift, ", ")
		pg.Rows = append(pg.Rows, hr)
	}
	pg.Verdict = verdict(rows)
	for _, r := range runs {
		v, err := validationBeside(r)
		if err != nil {
			return err
		}
		if v != nil {
			title, lines := verdictLines(v)
			pg.Verdict = append(pg.Verdict, title+". "+strings.Join(lines, " ")+" (validation.html beside the run.)")
		}
	}
	for _, p := range plots {
		pg.Plots = append(pg.Plots, dataURL(p))
	}
	subjects, means := SubjectMeans(rows)
	for _, r := range rows {
		pg.SubjHead = append(pg.SubjHead, r.Label)
	}
	for i, s := range subjects {
		row := []string{s}
		for j := range rows {
			if math.IsNaN(means[i][j]) {
				row = append(row, "–")
			} else {
				row = append(row, fmt.Sprintf(meanFormat, means[i][j]))
			}
		}
		pg.SubjRows = append(pg.SubjRows, row)
	}
	return page.Execute(w, pg)
}

// validationBeside reads the validation `charisbench validate --out DIR` wrote beside the
// run it scored (DIR/validation.json for DIR/run); nil when there is none, or when the
// run's Dir is a label rather than its folder (an ablation's variant name).
func validationBeside(r *charis.Run) (*validate.Report, error) {
	if _, why := readfile.Stat(filepath.Join(r.Dir, charis.SummaryFile)); why != nil {
		return nil, nil
	}
	path := filepath.Join(filepath.Dir(filepath.Clean(r.Dir)), "validation.json")
	data, err := readfile.Read("validation", path, readfile.MaxStateBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var v validate.Report
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: not a validation: %w", path, err)
	}
	return &v, nil
}

// verdict is the page's opening: the variant with the highest CHARIS, whether its interval
// clears every other's, and how many samples failed.
func verdict(rows []Row) []string {
	var lead *Row
	failed, n := 0, 0
	for i, r := range rows {
		failed, n = failed+r.Summary.Failures, n+r.Summary.N
		if c := r.Summary.CHARIS; c != nil && (lead == nil || c.Mean > lead.Summary.CHARIS.Mean) {
			lead = &rows[i]
		}
	}
	if lead == nil {
		return []string{fmt.Sprintf("No variant has a scored sample (%d of %d failed).", failed, n)}
	}
	c := lead.Summary.CHARIS
	line := fmt.Sprintf("Highest CHARIS: %s, %.3f [%.3f, %.3f]", lead.Label, c.Mean, c.CI[0], c.CI[1])
	var overlaps []string
	for _, r := range rows {
		if o := r.Summary.CHARIS; r.Label != lead.Label && o != nil && o.CI[1] >= c.CI[0] {
			overlaps = append(overlaps, r.Label)
		}
	}
	switch {
	case len(rows) == 1:
		line += "."
	case len(overlaps) == 0:
		line += ": its 95% interval is above every other variant's."
	default:
		line += fmt.Sprintf(": its 95%% interval overlaps %s's, so the order between them is not settled.", strings.Join(overlaps, ", "))
	}
	return []string{line, fmt.Sprintf("%d variants, %d samples, %d failed.", len(rows), n, failed)}
}

// examples returns a variant's best and worst scored samples by CHARIS.
func examples(r Row) (top, bottom []htmlSample) {
	var ok []charis.SampleResult
	for _, s := range r.Run.Samples {
		if s.Variant == r.Variant && s.Status == charis.StatusOK {
			ok = append(ok, s)
		}
	}
	sort.SliceStable(ok, func(i, j int) bool { return *ok[i].CHARIS > *ok[j].CHARIS })
	n := min(examplesPerEnd, len(ok))
	for i, s := range ok[:n] {
		top = append(top, sampleView(r.Run, s, fmt.Sprintf("best %d", i+1)))
	}
	rest := ok[max(n, len(ok)-examplesPerEnd):]
	for i, s := range rest {
		bottom = append(bottom, sampleView(r.Run, s, fmt.Sprintf("worst %d", len(rest)-i)))
	}
	return top, bottom
}

func sampleView(run *charis.Run, s charis.SampleResult, rank string) htmlSample {
	v := htmlSample{Rank: rank, ID: s.ID, Prompt: s.Prompt, CHARIS: fmt.Sprintf(meanFormat, *s.CHARIS)}
	for _, a := range charis.Axes {
		if av := s.Axes[a]; !av.Applies() {
			v.Axes += fmt.Sprintf("%s n/a (%v) ", a, axisWhy(av))
			continue
		}
		v.Axes += fmt.Sprintf("%s %.2f ", a, s.Axes[a].Score)
	}
	if s.Judge != nil {
		var drift []string
		for _, c := range s.Judge.Checks {
			if c.Verdict == charis.VerdictDrifted {
				drift = append(drift, c.Attribute)
			}
		}
		v.Drifted = strings.Join(drift, ", ")
	}
	manifest := run.Summary.Provenance.Manifest
	v.Reference = thumbnail(charis.Resolve(manifest, s.Reference))
	v.Generated = thumbnail(charis.Resolve(manifest, s.Generated))
	return v
}

// thumbnail is the image at path scaled to thumbSide on its long side, as a PNG data URL;
// empty when the file cannot be read (a report must not fail for a moved image).
func thumbnail(path string) template.URL {
	if path == "" {
		return ""
	}
	img, err := imageio.ReadFile(path, imageio.Options{})
	if err != nil {
		return ""
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	scale := float64(thumbSide) / float64(max(w, h))
	var small image.Image = img
	if scale < 1 {
		if r, err := preprocess.Resize(img, max(1, int(float64(w)*scale)), max(1, int(float64(h)*scale)), preprocess.Bilinear); err == nil {
			small = r
		}
	}
	var buf bytes.Buffer
	if png.Encode(&buf, small) != nil {
		return ""
	}
	return dataURL(buf.Bytes())
}

func dataURL(pngData []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(pngData))
}

// axisWhy says why an axis does not apply to a sample: the licensing phrase, or the reason.
func axisWhy(a charis.AxisValue) any {
	if p, ok := a.Diag["licensed_by"]; ok {
		return fmt.Sprintf("licensed by %q", p)
	}
	return a.Diag["reason"]
}
