package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/world"
	"github.com/charisbench/charisbench/metrics/worldcheck"
)

func newWorldCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "world",
		Short: "charis-world: a synthetic subject-driven benchmark with ground truth",
	}
	c.AddCommand(newWorldBuildCmd(), newWorldCheckEncodersCmd())
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

func newWorldCheckEncodersCmd() *cobra.Command {
	var (
		rf     runtimeFlags
		opt    = worldcheck.DefaultOptions
		models string
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "check-encoders",
		Short: "Measure identity and text-image retrieval of encoders on held-out charis-world data",
		Long: `Render held-out charis-world characters (the benchmark split, which the world's encoders
never trained on) and measure:
  identity top-1    each transformed view retrieves its character among all references,
                    by the CLS token and by the mean subject-patch token
  text->image top-1 each prompt retrieves its image among all held-out images (and back)
  segmenter IoU     (when the manifest has a segmenter) mask IoU against the exact render
                    masks: plain characters, one transformation of each category, and
                    blur, noise and JPEG at full strength
Chance is 1/subjects and 1/prompts. Without --models, the encoders built into charisbench
for this world are checked.`,
		Example: "  charisbench world check-encoders\n  charisbench world check-encoders --models out/world/models.yaml --subjects 200",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if models == "" {
				dir, err := os.MkdirTemp("", "charisbench-world-encoders-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				if err := world.WriteEncoders(dir); err != nil {
					return err
				}
				models = filepath.Join(dir, world.EncoderManifest)
			}
			m, err := charis.LoadModelManifest(models)
			if err != nil {
				return err
			}
			rt, err := rf.open()
			if err != nil {
				return err
			}
			defer rt.Close()
			rep, err := worldcheck.Run(rt, m, opt)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if asJSON {
				return printJSON(out, rep)
			}
			fmt.Fprintf(out, "held-out charis-world (seed %d, %dpx)\n", opt.Seed, opt.Size)
			fmt.Fprintf(out, "identity top-1, CLS token:           %.3f  (%d subjects x %d views; chance %.3f)\n",
				rep.IdentityCLS, opt.Subjects, opt.Queries, 1/float64(opt.Subjects))
			fmt.Fprintf(out, "identity top-1, mean subject patch:  %.3f\n", rep.IdentitySubject)
			fmt.Fprintf(out, "text->image top-1:                   %.3f  (%d prompts; chance %.3f)\n",
				rep.TextToImage, opt.Prompts, 1/float64(opt.Prompts))
			fmt.Fprintf(out, "image->text top-1:                   %.3f\n", rep.ImageToText)
			if len(rep.Segmenter) > 0 {
				fmt.Fprintf(out, "segmenter mask IoU (mean, min over %d characters):\n", opt.Subjects)
				for _, r := range rep.Segmenter {
					fmt.Fprintf(out, "  %-20s %.3f  %.3f\n", r.Kind, r.Mean, r.Min)
				}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&models, "models", "", "model manifest to check (default: the built-in charis-world encoders)")
	fl.IntVar(&opt.Subjects, "subjects", opt.Subjects, "held-out characters in the identity gallery")
	fl.IntVar(&opt.Queries, "queries", opt.Queries, "transformed views per character")
	fl.IntVar(&opt.Prompts, "prompts", opt.Prompts, "held-out prompts for text-image retrieval")
	fl.Uint64Var(&opt.Seed, "seed", opt.Seed, "seed of the held-out benchmark split")
	fl.IntVar(&opt.Size, "size", opt.Size, "image side in pixels")
	fl.BoolVar(&asJSON, "json", false, "print the report as JSON")
	rf.register(c)
	return c
}
