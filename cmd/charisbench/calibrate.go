package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/score"
)

func newCalibrateCmd() *cobra.Command {
	var (
		sf  scoringFlags
		opt score.CalibrateOptions
		dry bool
	)
	c := &cobra.Command{
		Use:   "calibrate --manifest SAMPLES --models MODELS",
		Short: "Fit the IC, PA and TD-spread calibrations of a model manifest on matched and mismatched pairs",
		Long: `Fit CHARIS v2's calibrations (docs/validation.md) on a manifest whose images fit their
references and prompts — a benchmark's ground truth, or real photos of each subject:

  IC         hi = mean raw IC of each image against its own reference,
             lo = against the reference of another subject (identity encoder)
  PA         hi = mean raw PA against its own prompt, lo = against another subject's prompt
             (clip_text encoder)
  TD spread  lo = 0, hi = mean CLIP-image spread among one subject's images (clip_image)

The fits are written into MODELS in place (its other contents are kept), each with the
number of pairs, the data's path and sha256 and this command. Fit on data disjoint from
what you will evaluate (for charis-world, the train split). At least 5 subjects are needed;
a failed sample is an error.`,
		Example: `  charisbench world build --split train --subjects 100 --prompts-per-subject 4 --seed 1 out/train
  charisbench calibrate --manifest out/train/manifest.jsonl --variant ground_truth --models out/train/models.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opt.Manifest == "" || sf.models == "" {
				return fmt.Errorf("--manifest and --models are required")
			}
			set, err := sf.open()
			if err != nil {
				return err
			}
			defer set.close()
			opt.Models, opt.Config, opt.Cache, opt.Runtime = set.models, set.config, set.cache, set.runtime
			opt.Command = commandLine(c)
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cals, err := score.Calibrate(ctx, opt)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			for _, r := range []charis.Role{charis.RoleIdentity, charis.RoleCLIPText, charis.RoleCLIPImage} {
				cal := cals[r]
				fmt.Fprintf(out, "%-9s %-10s lo %.4f  hi %.4f  (%d matched, %d mismatched, %d subjects)\n",
					cal.Fit.Axis, r, cal.Lo, cal.Hi, cal.Fit.Matched, cal.Fit.Mismatched, cal.Fit.Subjects)
			}
			if dry {
				return nil
			}
			if _, err := opt.Models.WriteCalibrations(cals); err != nil {
				return err
			}
			fmt.Fprintf(out, "wrote the calibrations into %s\n", sf.models)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&opt.Manifest, "manifest", "", "sample manifest whose images fit their references and prompts")
	fl.StringVar(&opt.Variant, "variant", "", "the manifest's rows to fit on (needed when it has several variants)")
	fl.IntVar(&opt.Mismatches, "mismatches", 4, "mismatched pairs per sample, from other subjects")
	fl.Uint64Var(&opt.Seed, "seed", 1, "seed of the mismatched pairs")
	fl.BoolVar(&dry, "dry-run", false, "print the fits without writing them")
	sf.register(c)
	return c
}

// commandLine is the command as a user would type it: its path and the flags set.
func commandLine(c *cobra.Command) string {
	parts := []string{c.CommandPath()}
	c.Flags().Visit(func(f *pflag.Flag) { parts = append(parts, "--"+f.Name, f.Value.String()) })
	return strings.Join(parts, " ")
}
