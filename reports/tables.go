package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/charisbench/charisbench/charis"
)

// Row is one variant of one run.
type Row struct {
	Label   string // the variant, prefixed by its run folder's name when several runs are reported
	Run     *charis.Run
	Variant string
	Summary *charis.VariantSummary
}

// Column is one reported metric.
type Column struct {
	Key, Head string
}

// Columns are the table's metrics: CHARIS and its geometric form, the five axes, then the
// classic metrics. All are better when higher.
var Columns = []Column{{"charis", "CHARIS"}, {"charis_geo", "CHARIS-geo"}, {"ic", "IC"}, {"pa", "PA"}, {"cf", "CF"}, {"vq", "VQ"}, {"td", "TD"},
	{"dino", "DINO"}, {"clip_i", "CLIP-I"}, {"clip_t", "CLIP-T"}}

// Rows lists every variant of every run, runs in the order given, variants by name. A
// variant is labelled by its name, prefixed by its run folder's name only where another
// run has a variant of the same name.
func Rows(runs []*charis.Run) []Row {
	count := map[string]int{}
	for _, r := range runs {
		for n := range r.Summary.Variants {
			count[n]++
		}
	}
	var rows []Row
	for _, r := range runs {
		names := make([]string, 0, len(r.Summary.Variants))
		for n := range r.Summary.Variants {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			label := n
			if count[n] > 1 {
				label = filepath.Base(filepath.Clean(r.Dir)) + "/" + n
			}
			rows = append(rows, Row{Label: label, Run: r, Variant: n, Summary: r.Summary.Variants[n]})
		}
	}
	return rows
}

// Stat returns a row's statistic of a metric; ok is false when the variant has no scored
// sample.
func (r Row) Stat(key string) (charis.Stat, bool) {
	v := r.Summary
	if v.CHARIS == nil {
		return charis.Stat{}, false
	}
	switch key {
	case "charis":
		return *v.CHARIS, true
	case "charis_geo":
		if v.CHARISGeo == nil {
			return charis.Stat{}, false
		}
		return *v.CHARISGeo, true
	case "dino", "clip_i", "clip_t":
		s, ok := v.Classic[key]
		return s, ok
	}
	s, ok := v.Axes[key]
	return s, ok
}

// halfWidth is half the width of the interval: the "±" the tables print.
func halfWidth(s charis.Stat) float64 { return (s.CI[1] - s.CI[0]) / 2 }

// best returns, per column, the highest mean over rows (NaN when no row has one).
func best(rows []Row) map[string]float64 {
	m := map[string]float64{}
	for _, c := range Columns {
		m[c.Key] = math.NaN()
		for _, r := range rows {
			if s, ok := r.Stat(c.Key); ok && !(s.Mean <= m[c.Key]) {
				m[c.Key] = s.Mean
			}
		}
	}
	return m
}

const meanFormat = "%.3f"

// WriteText writes the terminal table: mean ± half the 95% interval per cell.
func WriteText(w io.Writer, rows []Row) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignRight))
	head := []any{"variant", "n", "fail"}
	for _, c := range Columns {
		head = append(head, c.Head)
	}
	t.Header(head...)
	for _, r := range rows {
		cells := []any{r.Label, r.Summary.N, r.Summary.Failures}
		for _, c := range Columns {
			cells = append(cells, cell(r, c.Key, "%s ± %s"))
		}
		if err := t.Append(cells...); err != nil {
			return err
		}
	}
	return t.Render()
}

func cell(r Row, key, format string) string {
	s, ok := r.Stat(key)
	if !ok {
		return "–"
	}
	c := fmt.Sprintf(format, fmt.Sprintf(meanFormat, s.Mean), fmt.Sprintf(meanFormat, halfWidth(s)))
	if n, partial := r.AxisN(key); partial {
		c += fmt.Sprintf(" (n=%d)", n)
	}
	return c
}

// AxisN returns how many scored samples an axis applies to, and whether that is fewer
// than the variant's scored samples (CF where prompts license colour changes).
func (r Row) AxisN(key string) (int, bool) {
	v := r.Summary
	n, ok := v.AxisN[key]
	return n, ok && n < v.N-v.Failures
}

// formatCells formats a row's cells: format (mean, half-width as strings) for most, bold
// for the best mean of its column, missing where the variant has no scored sample.
func formatCells(r Row, best map[string]float64, format, bold, missing string) []string {
	cells := make([]string, len(Columns))
	for i, c := range Columns {
		s, ok := r.Stat(c.Key)
		switch {
		case !ok:
			cells[i] = missing
		case s.Mean == best[c.Key]:
			cells[i] = cell(r, c.Key, bold)
		default:
			cells[i] = cell(r, c.Key, format)
		}
	}
	return cells
}

// WriteMarkdown writes a Markdown table (mean ± half the 95% interval), the best mean of
// each column in bold.
func WriteMarkdown(w io.Writer, rows []Row) error {
	b := best(rows)
	fmt.Fprint(w, "| variant | n | failures |")
	for _, c := range Columns {
		fmt.Fprintf(w, " %s |", c.Head)
	}
	fmt.Fprint(w, "\n| --- | ---: | ---: |")
	for range Columns {
		fmt.Fprint(w, " ---: |")
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		cells := formatCells(r, b, "%s ± %s", "**%s** ± %s", "–")
		fmt.Fprintf(w, "| %s | %d | %d | %s |\n", mdEscape(r.Label), r.Summary.N, r.Summary.Failures, strings.Join(cells, " | "))
	}
	_, err := fmt.Fprintln(w, "\nMeans over scored samples; ± is half the 95% bootstrap interval (subjects resampled). Best per column in bold.")
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// WriteLaTeX writes a booktabs table (mean ± half the interval), the best mean of each
// column in bold. It needs \usepackage{booktabs}.
func WriteLaTeX(w io.Writer, rows []Row) error {
	b := best(rows)
	fmt.Fprintf(w, "\\begin{tabular}{l rr %s}\n\\toprule\n", strings.Repeat("c", len(Columns)))
	fmt.Fprint(w, "Variant & $n$ & Fail")
	for _, c := range Columns {
		fmt.Fprintf(w, " & %s", c.Head)
	}
	fmt.Fprint(w, " \\\\\n\\midrule\n")
	for _, r := range rows {
		cells := formatCells(r, b, `$%s$\,{\scriptsize$\pm$%s}`, `$\mathbf{%s}$\,{\scriptsize$\pm$%s}`, "--")
		fmt.Fprintf(w, "%s & %d & %d & %s \\\\\n", TeXEscape(r.Label), r.Summary.N, r.Summary.Failures, strings.Join(cells, " & "))
	}
	_, err := fmt.Fprint(w, "\\bottomrule\n\\end{tabular}\n")
	return err
}

var texReplacer = strings.NewReplacer(`\`, `\textbackslash{}`, "_", `\_`, "&", `\&`, "%", `\%`, "$", `\$`, "#", `\#`,
	"{", `\{`, "}", `\}`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`)

// TeXEscape escapes LaTeX's special characters in text.
func TeXEscape(s string) string { return texReplacer.Replace(s) }

// WriteCSV writes one row per variant: n, failures, subjects, and mean, lo, hi per metric.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	head := []string{"variant", "n", "failures", "subjects"}
	for _, c := range Columns {
		head = append(head, c.Key+"_mean", c.Key+"_lo", c.Key+"_hi")
	}
	cw.Write(head)
	for _, r := range rows {
		rec := []string{r.Label, fmt.Sprint(r.Summary.N), fmt.Sprint(r.Summary.Failures), fmt.Sprint(r.Summary.Subjects)}
		for _, c := range Columns {
			if s, ok := r.Stat(c.Key); ok {
				rec = append(rec, fmt.Sprintf("%.6f", s.Mean), fmt.Sprintf("%.6f", s.CI[0]), fmt.Sprintf("%.6f", s.CI[1]))
			} else {
				rec = append(rec, "", "", "")
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// SubjectMeans is the per-subject breakdown: for each subject, each row's mean CHARIS over
// the subject's scored samples (NaN when it has none).
func SubjectMeans(rows []Row) (subjects []string, means [][]float64) {
	set := map[string]bool{}
	for _, r := range rows {
		for _, s := range r.Run.Samples {
			if s.Variant == r.Variant {
				set[s.Subject] = true
			}
		}
	}
	for s := range set {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	index := map[string]int{}
	for i, s := range subjects {
		index[s] = i
	}
	means = make([][]float64, len(subjects))
	for i := range means {
		means[i] = make([]float64, len(rows))
	}
	for j, r := range rows {
		sum, n := make([]float64, len(subjects)), make([]int, len(subjects))
		for _, s := range r.Run.Samples {
			if s.Variant == r.Variant && s.Status == charis.StatusOK {
				sum[index[s.Subject]] += *s.CHARIS
				n[index[s.Subject]]++
			}
		}
		for i := range subjects {
			means[i][j] = math.NaN()
			if n[i] > 0 {
				means[i][j] = sum[i] / float64(n[i])
			}
		}
	}
	return subjects, means
}

// WriteSubjectsMarkdown writes the per-subject breakdown of CHARIS.
func WriteSubjectsMarkdown(w io.Writer, rows []Row) error {
	subjects, means := SubjectMeans(rows)
	fmt.Fprint(w, "| subject |")
	for _, r := range rows {
		fmt.Fprintf(w, " %s |", mdEscape(r.Label))
	}
	fmt.Fprint(w, "\n| --- |")
	for range rows {
		fmt.Fprint(w, " ---: |")
	}
	fmt.Fprintln(w)
	for i, s := range subjects {
		fmt.Fprintf(w, "| %s |", mdEscape(s))
		for j := range rows {
			if math.IsNaN(means[i][j]) {
				fmt.Fprint(w, " – |")
			} else {
				fmt.Fprintf(w, " "+meanFormat+" |", means[i][j])
			}
		}
		fmt.Fprintln(w)
	}
	return nil
}

// WriteSubjectsCSV writes the per-subject breakdown as CSV (empty cell: no scored sample).
func WriteSubjectsCSV(w io.Writer, rows []Row) error {
	subjects, means := SubjectMeans(rows)
	cw := csv.NewWriter(w)
	head := []string{"subject"}
	for _, r := range rows {
		head = append(head, r.Label)
	}
	cw.Write(head)
	for i, s := range subjects {
		rec := []string{s}
		for j := range rows {
			if math.IsNaN(means[i][j]) {
				rec = append(rec, "")
			} else {
				rec = append(rec, fmt.Sprintf("%.6f", means[i][j]))
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}
