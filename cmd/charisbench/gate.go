package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/reports/gate"
)

func newGateCmd() *cobra.Command {
	var (
		opt       = gate.DefaultOptions
		baseline  string
		candidate string
		metric    string
		axes      []string
		asJSON    bool
	)
	c := &cobra.Command{
		Use:   "gate --baseline RUN --candidate RUN",
		Short: "Fail when a candidate run's CHARIS dropped against a baseline run",
		Long: `Pair the samples of two scored runs by id, bootstrap the paired difference over subjects,
and fail when the drop (baseline − candidate) exceeds --max-drop with confidence
1 − --alpha, for --metric and every --axes metric. A sample scored in the baseline but failed
in the candidate also fails the gate.

Exit codes: 0 pass; 1 regression; 2 invalid input — runs of other encoders or metric
configs, sample sets that differ by more than --max-unpaired, a run with no paired scored
sample, or a damaged run (fail closed). Prints a Markdown summary (for a CI job summary),
or JSON with --json.`,
		Example: `  charisbench gate --baseline ci/baseline --candidate runs/pr
  charisbench gate --baseline ci/baseline --candidate runs/pr --axes ic,td --max-drop 0.02 >> "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if baseline == "" || candidate == "" {
				return fmt.Errorf("--baseline and --candidate are required")
			}
			opt.Metrics = append([]string{metric}, axes...)
			b, err := charis.ReadRun(baseline)
			if err != nil {
				return err
			}
			cd, err := charis.ReadRun(candidate)
			if err != nil {
				return err
			}
			res, err := gate.Compare(b, cd, opt)
			if err != nil {
				return err // invalid input: exit 2
			}
			out := c.OutOrStdout()
			if asJSON {
				err = printJSON(out, res)
			} else {
				err = gate.WriteMarkdown(out, res, baseline, candidate)
			}
			if err != nil {
				return err
			}
			if !res.Pass {
				return checkFailed{fmt.Errorf("regression: candidate %s against baseline %s", candidate, baseline)}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&baseline, "baseline", "", "baseline run folder (samples.jsonl + summary.json)")
	fl.StringVar(&candidate, "candidate", "", "candidate run folder")
	fl.StringVar(&metric, "metric", "charis", "metric to gate: charis, charis_geo, ic, pa, cf, vq, td, dino, clip_i, clip_t")
	fl.StringSliceVar(&axes, "axes", nil, "further metrics to gate, comma-separated (such as ic,td)")
	fl.Float64Var(&opt.MaxDrop, "max-drop", opt.MaxDrop, "tolerated drop, in metric units")
	fl.Float64Var(&opt.Alpha, "alpha", opt.Alpha, "1 − confidence of the drop's lower bound")
	fl.Float64Var(&opt.MaxUnpaired, "max-unpaired", opt.MaxUnpaired, "tolerated share of samples present in one run only")
	fl.IntVar(&opt.Draws, "draws", opt.Draws, "bootstrap draws")
	fl.Uint64Var(&opt.Seed, "seed", opt.Seed, "bootstrap seed")
	fl.BoolVar(&asJSON, "json", false, "print the verdict as JSON instead of Markdown")
	return c
}
