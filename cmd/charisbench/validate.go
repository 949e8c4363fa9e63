package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/validate"
	"github.com/charisbench/charisbench/reports"
)

func newValidateCmd() *cobra.Command {
	var (
		jf      judgeFlags
		sf      scoringFlags
		opt     validate.Options
		runDir  string
		require bool
	)
	c := &cobra.Command{
		Use:   "validate (--manifest SAMPLES --models MODELS | --run RUN_DIR) --out DIR",
		Short: "Check that CHARIS ranks the ground truth above failure families of known strength",
		Long: `Validate CHARIS on a benchmark (docs/validation.md): score a ground truth and failure families
of known strength, then report

  purity       per family and metric, Spearman rho between strength and score
  separation   ground truth minus each family at its top strength, paired by sample,
               with a 95% subject-bootstrap interval
  monotonicity whether each family's CHARIS means fall with strength

and check charis-v2.md's targets on the path users run: every subject mask the benchmark
gives is stripped (generated images never come with one), so masks come from the model
manifest's segmenter or the whole image counts. A benchmark that gives masks is also scored
with them, reported beside it and not gated. A charis-world build with perturbations
('world build --all-perturbations 0.25,0.5,0.75,1') is scored as it is. Any other
manifest is taken as the ground truth (its images fit their references and prompts) and
the families are built from it: blur, noise, JPEG and blank of the generated images at
--strengths, copy-paste of the reference, an identity swap (another subject's reference)
and a prompt mismatch (another subject's prompt). --run validates a run already scored.

It also prints the response matrix: every axis's drop from the ground truth under each
family at full strength. Each axis answers its own question, so --require also checks that
blur, JPEG and noise move VQ most and IC and PA by at most half of it, that identity swaps
and recolours leave PA and VQ and prompt mismatches IC, CF and VQ, and (on charis-world)
that the ground truth's IC holds in every kind of transformation its prompts ask for.

Writes DIR/validation.md, DIR/validation.html, DIR/validation.json, DIR/purity.png and
DIR/separation.png (and DIR/run/, DIR/run-given-masks/, DIR/mask-free/, DIR/families/ when
it scores). With --require, exit 1 when a target fails.`,
		Example: `  charisbench world build --subjects 40 --prompts-per-subject 4 --seed 11 --all-perturbations 0.25,0.5,0.75,1 out/w11
  charisbench validate --manifest out/w11/manifest.jsonl --models out/w11/models.yaml --out out/w11-validation --require
  charisbench validate --manifest mine.jsonl --models clip-dinov2.yaml --out out/mine-validation`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opt.Out == "" {
				return fmt.Errorf("--out is required")
			}
			var rep *validate.Report
			if runDir != "" {
				if opt.Manifest != "" {
					return fmt.Errorf("--run and --manifest exclude each other")
				}
				run, err := charis.ReadRun(runDir)
				if err != nil {
					return err
				}
				if rep, err = validate.Validate(run); err != nil {
					return err
				}
			} else {
				if opt.Manifest == "" || sf.models == "" {
					return fmt.Errorf("--manifest and --models (or --run) are required")
				}
				set, err := sf.open()
				if err != nil {
					return err
				}
				defer set.close()
				so := &opt.Score
				so.Models, so.Config, so.Cache, so.Runtime = set.models, set.config, set.cache, set.runtime
				judged, closeJudge, err := jf.scoreJudge(set)
				if err != nil {
					return err
				}
				defer closeJudge()
				so.Judge = judged
				so.Progress = terminal(c.ErrOrStderr())
				ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				if rep, err = validate.Run(ctx, opt); err != nil {
					if ctx.Err() != nil {
						return checkFailed{err}
					}
					return err
				}
			}
			files, err := reports.WriteValidation(opt.Out, rep)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if g := rep.GivenMasks; g != nil {
				fmt.Fprintf(out, "given masks stripped (scored as users' images are); with them, for comparison:\n")
				for _, f := range g.Families {
					s := g.Separation[f].Metrics["charis"]
					fmt.Fprintf(out, "  %-16s ground truth minus @%g: %+.3f [%+.3f, %+.3f]\n", f, g.Separation[f].Strength, s.Mean, s.CI[0], s.CI[1])
				}
				fmt.Fprintf(out, "  with given masks: %d of %d checks pass (not gated)\nwithout masks (the verdict):\n", len(g.Checks)-len(g.Failed()), len(g.Checks))
			}
			for _, f := range rep.Families {
				s := rep.Separation[f].Metrics["charis"]
				fmt.Fprintf(out, "%-16s ground truth minus @%g: %+.3f [%+.3f, %+.3f]  monotone: %v\n",
					f, rep.Separation[f].Strength, s.Mean, s.CI[0], s.CI[1], rep.Monotone[f].Falls)
			}
			fmt.Fprintf(out, "response at full strength (ground truth minus the family):\n  %-18s", "")
			for _, a := range charis.Axes {
				fmt.Fprintf(out, "%8s", strings.ToUpper(a))
			}
			fmt.Fprintln(out)
			for _, f := range rep.Families {
				if rep.Separation[f].Strength != 1 {
					continue
				}
				fmt.Fprintf(out, "  %-18s", f+"@1")
				for _, a := range charis.Axes {
					if st, ok := rep.Separation[f].Metrics[a]; ok {
						fmt.Fprintf(out, "%+8.3f", st.Mean)
					} else {
						fmt.Fprintf(out, "%8s", "–")
					}
				}
				fmt.Fprintln(out)
			}
			failed := rep.Failed()
			for _, ch := range failed {
				fmt.Fprintf(out, "FAIL %s: %.3f (want %s)\n", ch.Name, ch.Value, ch.Target)
			}
			verdict := "PASS"
			if !rep.Pass {
				verdict = "FAIL"
			}
			fmt.Fprintf(out, "validation %s: %d of %d checks pass; wrote %s and %d more files in %s\n",
				verdict, len(rep.Checks)-len(failed), len(rep.Checks), filepath.Base(files[0]), len(files)-1, opt.Out)
			if require && !rep.Pass {
				return checkFailed{fmt.Errorf("validation failed %d of %d checks (--require)", len(failed), len(rep.Checks))}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&opt.Manifest, "manifest", "", "benchmark manifest: a charis-world build, or rows whose images fit their references and prompts")
	fl.StringVar(&opt.Variant, "variant", "", "the manifest's ground-truth rows, when it has several variants")
	fl.StringVar(&runDir, "run", "", "validate a run already scored instead of scoring")
	fl.StringVar(&opt.Out, "out", "", "folder for the validation (and the scored run)")
	fl.Float64SliceVar(&opt.Strengths, "strengths", validate.DefaultStrengths, "strengths of the image families built for a non-world manifest")
	fl.Uint64Var(&opt.Seed, "seed", 1, "seed of the noise family")
	fl.BoolVar(&require, "require", false, "exit 1 when a target of charis-v2.md fails")
	sf.register(c)
	jf.register(c, "judge", "also judge identity the hierarchical way (docs/judge.md): probe or vlm; judge IC joins the separation table")
	return c
}
