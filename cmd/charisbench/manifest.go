package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/datasets/dreambench"
)

func newManifestCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "manifest",
		Short: "Write a sample manifest for a published benchmark's generated images",
	}
	c.AddCommand(newManifestDreamBenchCmd())
	return c
}

func newManifestDreamBenchCmd() *cobra.Command {
	opt := dreambench.Options{}
	c := &cobra.Command{
		Use:   "dreambench DATA_DIR GENERATED_DIR -o MANIFEST",
		Short: "Pair DreamBench's subjects and prompts with a folder of generated images",
		Long: `Write a manifest that 'charisbench score' reads: one row per DreamBench subject, prompt and
sample, pairing the image in GENERATED_DIR (found by --layout) with the subject's reference
photo, its prompt and its class.

DATA_DIR is DreamBooth's dataset/ folder: a folder of photos per subject and
prompts_and_classes.txt. Live subjects (the 9 cats and dogs) get the live-subject prompts,
the 21 objects the object prompts, 25 each; the prompt keeps the unique token (--token),
which PA and CLIP-T drop when it is one of the metric config's pa.identifiers (default: sks).
Each row's reference is the subject's first photo by name; DreamBooth's DINO and CLIP-I
average over all of a subject's photos instead (docs in the README).

The layout's fields: {subject}, {class}, {prompt_index} (two digits), {sample} (from 0) and
{ext} (png, jpg, jpeg, webp). Missing images are an error listing the first few, unless
--skip-missing; a file in the layout's shape that names a subject or prompt index DreamBench
does not have is an error naming it.`,
		Example: `  charisbench manifest dreambench dreambooth/dataset out/ours -o ours.jsonl
  charisbench manifest dreambench dreambooth/dataset out/ours --layout '{subject}-{prompt_index}-{sample}.png' --samples 1 -o ours.jsonl`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			opt.Data, opt.Generated = args[0], args[1]
			if opt.Out == "" {
				return fmt.Errorf("-o MANIFEST is required (see %s --help)", c.CommandPath())
			}
			res, err := dreambench.Manifest(opt)
			if err != nil {
				return err
			}
			if err := dreambench.Write(opt.Out, res.Samples); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %d samples of %d subjects to %s", len(res.Samples), res.Subjects, opt.Out)
			if len(res.Missing) > 0 {
				fmt.Fprintf(c.OutOrStdout(), "; %d missing images left out (--skip-missing)", len(res.Missing))
			}
			if res.Extra > 0 {
				fmt.Fprintf(c.OutOrStdout(), "; %d images past --samples %d not used", res.Extra, opt.Samples)
			}
			fmt.Fprintln(c.OutOrStdout())
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVarP(&opt.Out, "out", "o", "", "the manifest to write (JSON lines)")
	fl.StringVar(&opt.Layout, "layout", dreambench.DefaultLayout, "where each generated image is, relative to GENERATED_DIR")
	fl.StringVar(&opt.Variant, "variant", "", "the rows' variant name (default: GENERATED_DIR's name)")
	fl.StringVar(&opt.Token, "token", "sks", "the unique token in the prompts")
	fl.IntVar(&opt.Samples, "samples", 4, "generated images per prompt")
	fl.BoolVar(&opt.SkipMissing, "skip-missing", false, "leave out samples whose image is missing instead of refusing")
	return c
}
