package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/reports"
)

func newReportCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "report RUN_DIR... --out DIR",
		Short: "Write tables, plots and an HTML report of scored runs",
		Long: `Read scored run folders (samples.jsonl + summary.json, as 'charisbench score' writes them)
and write into DIR:
  table.txt, table.md, table.tex, table.csv   variants × (CHARIS, IC, PA, CF, VQ, TD, DINO,
                                              CLIP-I, CLIP-T): mean ± half the 95% interval
                                              (CSV: mean, lo, hi); best per column in bold
  subjects.md, subjects.csv                   mean CHARIS per subject and variant
  bars, tradeoff, distributions (.png, .svg)  plots
  report.html                                 one self-contained page with all of it and
                                              the best and worst samples of each variant
The terminal table is printed too. LaTeX tables need \usepackage{booktabs}.`,
		Example: "  charisbench report runs/world --out reports/world\n  charisbench report runs/base runs/pr --out reports/compare",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out DIR is required")
			}
			var runs []*charis.Run
			for _, dir := range args {
				r, err := charis.ReadRun(dir)
				if err != nil {
					return err
				}
				runs = append(runs, r)
			}
			if err := reports.WriteText(c.OutOrStdout(), reports.Rows(runs)); err != nil {
				return err
			}
			files, err := reports.Write(out, runs)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %d files to %s (open %s/report.html)\n", len(files), out, out)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "folder to write the reports into")
	return c
}
