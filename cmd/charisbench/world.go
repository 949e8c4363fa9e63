package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/charis/world"
)

func newWorldCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "world",
		Short: "charis-world: a synthetic subject-driven benchmark with ground truth",
	}
	c.AddCommand(newWorldBuildCmd())
	return c
}

func newWorldBuildCmd() *cobra.Command {
	var (
		opt      world.BuildOptions
		perturbs []string
		allLevel []float64
	)
	c := &cobra.Command{
		Use:   "build OUT_DIR",
		Short: "Render a charis-world benchmark (or training set) with masks, ground truth and a manifest",
		Long: `Render characters and their transformed targets into OUT_DIR:
  references/, targets/     images (PNG), subject masks (*.mask.png), part maps (*.parts.png)
  perturbed/KIND@S/         perturbed generations (with --perturb)
  manifest.jsonl            one sample per line, in the format 'charisbench score' reads;
                            the ground_truth variant's "generated" is the true target
  build.json                the options, for provenance
The same options give byte-identical files. --split train draws characters from a separate
stream, for training generators and encoders without touching benchmark characters.

Perturbations (KIND@STRENGTH, strength in [0, 1]): identity_swap, recolour, prompt_mismatch,
blur, noise, jpeg, blank, copy_paste.`,
		Example: `  charisbench world build --subjects 20 --prompts-per-subject 4 --seed 1 out/world
  charisbench world build --subjects 20 --prompts-per-subject 4 --seed 1 --perturb blur@0.5,identity_swap@0.33 out/world
  charisbench world build --split train --subjects 2000 --prompts-per-subject 8 --seed 1 out/train`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			for _, s := range perturbs {
				p, err := world.ParsePerturbation(s)
				if err != nil {
					return fmt.Errorf("--perturb: %w", err)
				}
				opt.Perturbations = append(opt.Perturbations, p)
			}
			for _, s := range allLevel {
				for _, k := range world.PerturbationKinds {
					p, err := world.ParsePerturbation(fmt.Sprintf("%s@%g", k, s))
					if err != nil {
						return fmt.Errorf("--all-perturbations: %w", err)
					}
					opt.Perturbations = append(opt.Perturbations, p)
				}
			}
			if err := world.Build(args[0], opt); err != nil {
				return err
			}
			n := opt.Subjects * opt.PromptsPerSubject
			fmt.Fprintf(c.OutOrStdout(), "wrote %d subjects, %d samples, %d perturbed variants to %s (manifest.jsonl)\n",
				opt.Subjects, n, len(opt.Perturbations), args[0])
			return nil
		},
	}
	fl := c.Flags()
	fl.IntVar(&opt.Subjects, "subjects", 20, "number of characters")
	fl.IntVar(&opt.PromptsPerSubject, "prompts-per-subject", 4, "transformed targets per character")
	fl.Uint64Var(&opt.Seed, "seed", 1, "random seed: same seed, same bytes")
	fl.IntVar(&opt.Size, "size", world.DefaultSize, "image side in pixels")
	fl.IntVar(&opt.MaxTransforms, "max-transforms", 4, "most transformations per prompt (1-4)")
	fl.StringVar(&opt.Split, "split", world.SplitBench, "bench or train (disjoint characters)")
	fl.StringSliceVar(&perturbs, "perturb", nil, "perturbed variants, KIND@STRENGTH, comma-separated")
	fl.Float64SliceVar(&allLevel, "all-perturbations", nil, "add every perturbation kind at these strengths")
	return c
}
