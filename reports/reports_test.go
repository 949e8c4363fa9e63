package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/validate"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// Golden plots may differ from a fresh rendering by at most this mean absolute channel
// difference (of 255) and this share of differing pixels: room for font rasteriser
// changes, none for a moved bar or axis.
const (
	plotMeanTol  = 0.5
	plotShareTol = 0.01
)

func fixtureRun(t *testing.T) *charis.Run {
	t.Helper()
	r, err := charis.ReadRun("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// golden compares got with testdata/golden/name, writing got beside it (name.got) on a
// mismatch and rewriting the golden file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update)", err)
	}
	if !bytes.Equal(got, want) {
		os.WriteFile(path+".got", got, 0o644)
		t.Errorf("%s differs from its golden file; the output is in %s.got", name, path)
	}
}

func TestGoldenTables(t *testing.T) {
	rows := Rows([]*charis.Run{fixtureRun(t)})
	for name, write := range map[string]func(*bytes.Buffer, []Row) error{
		"table.txt":    func(b *bytes.Buffer, r []Row) error { return WriteText(b, r) },
		"table.md":     func(b *bytes.Buffer, r []Row) error { return WriteMarkdown(b, r) },
		"table.tex":    func(b *bytes.Buffer, r []Row) error { return WriteLaTeX(b, r) },
		"table.csv":    func(b *bytes.Buffer, r []Row) error { return WriteCSV(b, r) },
		"subjects.md":  func(b *bytes.Buffer, r []Row) error { return WriteSubjectsMarkdown(b, r) },
		"subjects.csv": func(b *bytes.Buffer, r []Row) error { return WriteSubjectsCSV(b, r) },
	} {
		var buf bytes.Buffer
		if err := write(&buf, rows); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		golden(t, name, buf.Bytes())
	}
}

func TestBestIsBold(t *testing.T) {
	var buf bytes.Buffer
	rows := Rows([]*charis.Run{fixtureRun(t)})
	if err := WriteLaTeX(&buf, rows); err != nil {
		t.Fatal(err)
	}
	// One bold cell per column with values at least (ties may add more), none in n or
	// Fail. The fixture was scored before charis_geo existed: that column is empty.
	cols := 0
	for _, c := range Columns {
		for _, r := range rows {
			if _, ok := r.Stat(c.Key); ok {
				cols++
				break
			}
		}
	}
	if n := strings.Count(buf.String(), `\mathbf{`); n < cols || cols != len(Columns)-1 {
		t.Fatalf("%d bold cells for %d columns with values (of %d)", n, cols, len(Columns))
	}
	if !strings.Contains(buf.String(), `\toprule`) || !strings.Contains(buf.String(), `\bottomrule`) {
		t.Fatal("not a booktabs table")
	}
}

func TestGoldenPlots(t *testing.T) {
	dir := t.TempDir()
	if _, err := WritePlots(dir, Rows([]*charis.Run{fixtureRun(t)})); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bars.png", "tradeoff.png", "distributions.png"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "golden", name)
		if *update {
			os.WriteFile(path, got, 0o644)
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./reports -update)", err)
		}
		mean, share := imageDiff(t, got, want)
		if mean > plotMeanTol || share > plotShareTol {
			os.WriteFile(path+".got.png", got, 0o644)
			t.Errorf("%s: mean |d| %.3f (tol %.1f), %.2f%% pixels differ (tol %.0f%%); rendering in %s.got.png",
				name, mean, plotMeanTol, 100*share, 100*plotShareTol, path)
		}
	}
	for _, name := range []string{"bars.svg", "tradeoff.svg", "distributions.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s: not an SVG (%v)", name, err)
		}
	}
}

func imageDiff(t *testing.T, a, b []byte) (mean, share float64) {
	t.Helper()
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds() != ib.Bounds() {
		return 255, 1
	}
	r := ia.Bounds()
	total, differ := 0.0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			d := pixelDiff(ia, ib, x, y)
			total += d
			if d > 0 {
				differ++
			}
		}
	}
	n := float64(r.Dx() * r.Dy())
	return total / n, float64(differ) / n
}

func pixelDiff(a, b image.Image, x, y int) float64 {
	r1, g1, b1, _ := a.At(x, y).RGBA()
	r2, g2, b2, _ := b.At(x, y).RGBA()
	abs := func(p, q uint32) float64 {
		if p > q {
			return float64(p-q) / 257
		}
		return float64(q-p) / 257
	}
	return (abs(r1, r2) + abs(g1, g2) + abs(b1, b2)) / 3
}

func TestHTMLIsSelfContained(t *testing.T) {
	run := fixtureRun(t)
	dir := t.TempDir()
	files, err := Write(dir, []*charis.Run{run})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 13 {
		t.Fatalf("%d files: %v", len(files), files)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	s := string(html)
	for _, want := range []string{"<h1>CHARIS report</h1>", "data:image/png;base64,", "ground_truth", "blur@1", "Per subject"} {
		if !strings.Contains(s, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(s, `src="http`) || strings.Contains(s, `href="http`) {
		t.Error("report.html links outside itself")
	}
	if n := strings.Count(s, `<img src="data:image/png`); n < 3 {
		t.Errorf("only %d embedded images", n)
	}
}

// TestNothingScored: a run whose every sample failed still gets its tables and page.
func TestNothingScored(t *testing.T) {
	run := fixtureRun(t)
	for name, v := range run.Summary.Variants {
		run.Summary.Variants[name] = &charis.VariantSummary{N: v.N, Failures: v.N}
	}
	for i := range run.Samples {
		run.Samples[i].Status, run.Samples[i].CHARIS = charis.StatusError, nil
	}
	files, err := Write(t.TempDir(), []*charis.Run{run})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 7 { // six tables and report.html, no plots
		t.Fatalf("files: %v", files)
	}
}

func TestSeveralRunsAreLabelled(t *testing.T) {
	a, b := fixtureRun(t), fixtureRun(t)
	b.Dir = "testdata/other"
	rows := Rows([]*charis.Run{a, b})
	if len(rows) != 2*len(a.Summary.Variants) || !strings.HasPrefix(rows[0].Label, "run/") || !strings.HasPrefix(rows[len(rows)-1].Label, "other/") {
		t.Fatalf("labels: %v", []string{rows[0].Label, rows[len(rows)-1].Label})
	}
}

// TestHTMLVerdictAndDrift: the page opens with the leading variant and whether its interval
// clears the others', and shows the judge's drifted attributes per variant and per sample.
func TestHTMLVerdictAndDrift(t *testing.T) {
	run := fixtureRun(t)
	run.Summary.Variants["blur@1"].Drifted = []charis.DriftCount{{Attribute: "hair colour", Count: 4}}
	for i := range run.Samples {
		if run.Samples[i].Variant == "blur@1" {
			run.Samples[i].Judge = &charis.Judgment{Checks: []charis.JudgeCheck{{Attribute: "hair colour", Verdict: charis.VerdictDrifted}}}
		}
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, []*charis.Run{run}, Rows([]*charis.Run{run}), nil); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	gt := run.Summary.Variants["ground_truth"].CHARIS
	for _, want := range []string{
		fmt.Sprintf("Highest CHARIS: ground_truth, %.3f [%.3f, %.3f]", gt.Mean, gt.CI[0], gt.CI[1]),
		"3 variants, 30 samples, 0 failed.",
		"attributes changed unasked (samples): hair colour (4)",
		`<span class="warn">drifted: hair colour</span>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// TestHTMLShowsValidation: a run scored by `validate --out DIR` (DIR/run) has its verdict
// from DIR/validation.json at the top of the page; a damaged one is an error naming it.
func TestHTMLShowsValidation(t *testing.T) {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	os.MkdirAll(runDir, 0o755)
	for _, f := range []string{charis.SummaryFile, charis.SamplesFile} {
		b, err := os.ReadFile(filepath.Join("testdata", "run", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(runDir, f), b, 0o644)
	}
	run, err := charis.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	rep := validate.Report{Run: "w11", Version: 2, Pass: false, Checks: []validate.Check{{Name: "a", Pass: true}, {Name: "b", Pass: false}}}
	data, _ := json.Marshal(rep)
	os.WriteFile(filepath.Join(dir, "validation.json"), data, 0o644)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, []*charis.Run{run}, Rows([]*charis.Run{run}), nil); err != nil {
		t.Fatal(err)
	}
	if want := "Validation of CHARIS v2: FAIL. Run: w11. 1 of 2 checks pass"; !strings.Contains(buf.String(), want) {
		t.Errorf("report.html lacks %q", want)
	}
	os.WriteFile(filepath.Join(dir, "validation.json"), data[:len(data)/2], 0o644)
	if err := WriteHTML(&buf, []*charis.Run{run}, Rows([]*charis.Run{run}), nil); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "validation.json")) {
		t.Errorf("a damaged validation.json: %v", err)
	}
}
