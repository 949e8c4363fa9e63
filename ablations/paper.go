package ablations

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/generators/flowdit"
	"github.com/charisbench/charisbench/reports"
)

// The CHARIS values arXiv 2511.08061 reports, shown beside a run's own.
const (
	paperOurs          = 0.750 // latent concatenation + masked CFM, LoRA attn + FFN
	paperUNO           = 0.683
	paperDSD           = 0.670
	paperFullLoss      = 0.652
	paperLoRAAttn      = 0.725
	paperLoRAAttnFFN   = 0.743
	paperLoRAAttnFFNMd = 0.735
)

// paperTable is one of the paper's tables: rows of (label, variant, paper value).
type paperTable struct {
	name, title string
	rows        []paperRow
}

type paperRow struct {
	label   string
	variant string // "" when the run has no such variant
	paper   float64
}

// methodVariant finds the variant of the paper's method (flowdit, or an exec generator
// taking the method's settings) with this loss and these layer sets.
func methodVariant(vs []Variant, loss flowdit.LossMode, layers ...flowdit.LayerSet) string {
	for _, v := range vs {
		if v.Generator.takesSettings() && v.Settings.Loss == loss && slices.Equal(v.Settings.LoRALayers, layers) {
			return v.Name
		}
	}
	return ""
}

// namedVariant finds a variant outside the method's grid whose name contains want
// (case-insensitive): a baseline such as UNO or DSD.
func namedVariant(vs []Variant, want string) string {
	for _, v := range vs {
		if !v.Generator.takesSettings() && strings.Contains(strings.ToLower(v.Name), want) {
			return v.Name
		}
	}
	return ""
}

func paperTables(vs []Variant) []paperTable {
	A, F, M := flowdit.Attn, flowdit.FFN, flowdit.Modulation
	ours := methodVariant(vs, flowdit.Masked, A, F)
	return []paperTable{
		{"main", "Main comparison", []paperRow{
			{"Ours (masked, LoRA attn+FFN)", ours, paperOurs}, {"UNO", namedVariant(vs, "uno"), paperUNO},
			{"DSD", namedVariant(vs, "dsd"), paperDSD}}},
		{"masking", "Masking ablation", []paperRow{
			{"Masked CFM loss", ours, paperOurs}, {"Full CFM loss", methodVariant(vs, flowdit.Full, A, F), paperFullLoss}}},
		{"lora", "LoRA layer sets", []paperRow{
			{"A: attn", methodVariant(vs, flowdit.Masked, A), paperLoRAAttn},
			{"B: attn+FFN", ours, paperLoRAAttnFFN},
			{"C: attn+FFN+modulation", methodVariant(vs, flowdit.Masked, A, F, M), paperLoRAAttnFFNMd}}},
	}
}

// WriteReport writes out/report: every scored variant's tables, plots and page
// (reports.Write), and the paper's three tables as paper_NAME.md and .tex with the paper's
// CHARIS beside the run's. It returns the paper tables written.
func WriteReport(out string, vs []Variant) ([]string, error) {
	var runs []*charis.Run
	byName := map[string]*charis.Run{}
	for _, v := range vs {
		r, err := charis.ReadRun(filepath.Join(out, "variants", v.Name, "run"))
		if err != nil {
			return nil, fmt.Errorf("variant %s has no scored run yet (%v): run every variant, or merge shards, before the report", v.Name, err)
		}
		r.Dir = v.Name // label rows by variant
		runs = append(runs, r)
		byName[v.Name] = r
	}
	dir := filepath.Join(out, "report")
	withTruth := runs
	// A benchmark without targets has no ground truth; one that has an unreadable one says so.
	if truth, err := charis.ReadRun(filepath.Join(out, GroundTruth, "run")); err == nil {
		truth.Dir = GroundTruth
		withTruth = append([]*charis.Run{truth}, runs...)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the ground truth's scored run: %w (run again to score it again)", err)
	}
	// The evidence and the paper's tables first: report.html shows them.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	evidence, evidenceSec, err := writeEvidence(out, dir, vs)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	var sections []reports.Section
	var files []string
	for _, t := range paperTables(vs) {
		sec, tex := renderPaperTable(t, byName)
		sections = append(sections, sec)
		for _, out := range []struct{ ext, text string }{{".md", sec.Markdown()}, {".tex", tex}} {
			p := filepath.Join(dir, "paper_"+t.name+out.ext)
			if err := os.WriteFile(p, []byte(out.text), 0o644); err != nil {
				return nil, err
			}
			files = append(files, p)
		}
	}
	sections = append(sections, evidenceSec)
	if sheet, err := os.ReadFile(filepath.Join(dir, contactSheetFile)); err == nil {
		sections = append(sections, reports.Section{Title: "Contact sheet: reference, ground truth, each variant", PNG: sheet})
	}
	if _, err := reports.Write(dir, withTruth, sections...); err != nil {
		return nil, err
	}
	return append(files, evidence...), nil // the paper's tables in its order (main, masking, LoRA), then the evidence
}

// renderPaperTable lays a paper table out as a report section (its Markdown is the .md
// file) and as LaTeX: the run's CHARIS (mean ± half the 95% interval) and axes beside the
// paper's CHARIS.
func renderPaperTable(t paperTable, runs map[string]*charis.Run) (reports.Section, string) {
	var l strings.Builder
	tab := &reports.Table{
		Head:    []string{"method", "variant", "CHARIS (this run)", "IC", "PA", "CF", "VQ", "TD", "CHARIS (paper)"},
		Numeric: []bool{false, false, true, true, true, true, true, true, true},
	}
	fmt.Fprintf(&l, "%% %s\n\\begin{tabular}{ll ccccccc}\n\\toprule\nMethod & Variant & CHARIS & IC & PA & CF & VQ & TD & CHARIS (paper) \\\\\n\\midrule\n", t.title)
	for _, row := range t.rows {
		cells := []string{"–", "–", "–", "–", "–", "–"}
		if r := runs[row.variant]; r != nil {
			if v := r.Summary.Variants[row.variant]; v != nil && v.CHARIS != nil {
				cells[0] = fmt.Sprintf("%.3f ± %.3f", v.CHARIS.Mean, (v.CHARIS.CI[1]-v.CHARIS.CI[0])/2)
				for i, a := range charis.Axes {
					cells[i+1] = fmt.Sprintf("%.3f", v.Axes[a].Mean)
				}
			}
		}
		variant := row.variant
		if variant == "" {
			variant = "(not in this run)"
		}
		paper := fmt.Sprintf("%.3f", row.paper)
		tab.Rows = append(tab.Rows, append(append([]string{row.label, variant}, cells...), paper))
		fmt.Fprintf(&l, "%s & %s & %s & %s \\\\\n", reports.TeXEscape(row.label), reports.TeXEscape(variant),
			strings.ReplaceAll(strings.Join(cells, " & "), "±", `$\pm$`), paper)
	}
	l.WriteString("\\bottomrule\n\\end{tabular}\n")
	return reports.Section{Title: t.title, Table: tab,
		Note: "This run's CHARIS is measured on charis-world with its own encoders; the paper's on its benchmark with CLIP and DINOv2. Compare directions, not values."}, l.String()
}
