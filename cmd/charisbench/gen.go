package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/generators/flowdit"
)

func newGenCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "gen",
		Short: "Train and sample flowdit, the paper's generator at toy scale (docs/flowdit.md)",
	}
	c.AddCommand(newGenTrainCmd(), newGenSampleCmd())
	return c
}

func newGenTrainCmd() *cobra.Command {
	var (
		o      = flowdit.TrainOptions{Loss: flowdit.Masked, Steps: 1000, Batch: 8, LearningRate: 1e-3, Seed: 1}
		stage  string
		size   string
		layers string
		loss   string
	)
	c := &cobra.Command{
		Use:   "train --stage base|finetune --out CHECKPOINT",
		Short: "Train flowdit on charis-world's training split",
		Long: `Train flowdit on charis-world's training split (characters no benchmark uses) on the CPU:
  --stage base       text -> image, from scratch (the reference half is zero)
  --stage finetune   reference + prompt -> target: LoRA adapters on the frozen --base,
                     with the CFM loss masked to the target half (--loss masked) or not
                     (--loss full), on the --lora layer sets (attn, ffn, modulation).
The checkpoint folder holds checkpoint.json, base.bin and (fine-tuned) lora.bin.`,
		Example: `  charisbench gen train --stage base --steps 1500 --out ckpt/base
  charisbench gen train --stage finetune --base ckpt/base --lora attn+ffn --rank 8 --loss masked --steps 400 --out ckpt/masked`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.Out == "" {
				return fmt.Errorf("--out CHECKPOINT is required")
			}
			o.Stage, o.Loss = flowdit.Stage(stage), flowdit.LossMode(loss)
			switch size {
			case "tiny":
				o.Config = flowdit.Tiny
			case "small":
				o.Config = flowdit.Small
			default:
				return fmt.Errorf("--size: unknown %q (want tiny or small)", size)
			}
			if o.Stage == flowdit.Finetune {
				if o.BaseDir == "" {
					return fmt.Errorf("--stage finetune needs --base CHECKPOINT")
				}
				sets, err := flowdit.ParseLayerSets(layers)
				if err != nil {
					return fmt.Errorf("--lora: %w", err)
				}
				o.LoRA.Layers = sets
			}
			out := c.ErrOrStderr()
			if o.Device == flowdit.CPU || o.Device == "" {
				fmt.Fprintf(out, "flowdit on the CPU: %s\n", flowdit.Kernels())
			}
			o.Progress = func(step, steps int, loss float64, elapsed time.Duration) {
				eta := time.Duration(float64(elapsed) / float64(step) * float64(steps-step))
				fmt.Fprintf(out, "step %d/%d  loss %.4f  %s elapsed, ETA %s\n", step, steps, loss, elapsed.Round(time.Second), eta.Round(time.Second))
			}
			if err := flowdit.Train(o); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %s\n", o.Out)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&stage, "stage", string(flowdit.Base), "base or finetune")
	fl.StringVar(&size, "size", "tiny", "model size for the base stage: tiny (CPU) or small (GPU)")
	fl.StringVar(&o.BaseDir, "base", "", "base checkpoint to fine-tune (finetune), or to train further (base)")
	fl.Float64Var(&o.ReferenceRate, "reference-rate", 0, "base stage: fraction of triples shown with their reference (0: text -> image only)")
	fl.StringVar(&layers, "lora", "attn+ffn", "LoRA layer sets, joined by +: attn, ffn, modulation")
	fl.IntVar(&o.LoRA.Rank, "rank", 8, "LoRA rank")
	fl.Float64Var(&o.LoRA.Alpha, "alpha", 8, "LoRA alpha (adapters scale by alpha/rank)")
	fl.StringVar(&loss, "loss", string(flowdit.Masked), "CFM loss mask: masked (target half) or full")
	fl.IntVar(&o.Steps, "steps", o.Steps, "optimiser steps")
	fl.IntVar(&o.Batch, "batch", o.Batch, "triples per step")
	fl.Float64Var(&o.LearningRate, "lr", o.LearningRate, "Adam learning rate")
	fl.BoolVar(&o.Cosine, "cosine", false, "decay the learning rate to a tenth of --lr over the steps (cosine)")
	fl.Uint64Var(&o.Seed, "seed", o.Seed, "seed of data, noise and initialisation")
	fl.StringVar(&o.Out, "out", "", "checkpoint folder to write")
	fl.StringVar((*string)(&o.Device), "device", string(flowdit.CPU), "cpu (GoMLX's pure-Go backend) or cuda (XLA with a PJRT CUDA plugin)")
	return c
}

func newGenSampleCmd() *cobra.Command {
	o := flowdit.GenerateOptions{Batch: 8, Sample: flowdit.DefaultSampleOptions}
	c := &cobra.Command{
		Use:   "sample --ckpt CHECKPOINT --manifest SAMPLES --out DIR",
		Short: "Generate an image for every (reference, prompt) of a manifest",
		Long: `Generate one image per manifest row from its reference and prompt with a flowdit
checkpoint, and write DIR/images/ID.png and DIR/manifest.jsonl (the rows, generated images
in place; --variant renames them), ready for 'charisbench score'. Deterministic for a seed.`,
		Example: "  charisbench gen sample --ckpt ckpt/masked --manifest out/world/manifest.jsonl --variant masked --out out/gen/masked",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.Checkpoint == "" || o.Manifest == "" || o.Out == "" {
				return fmt.Errorf("--ckpt, --manifest and --out are required")
			}
			n, err := flowdit.Generate(o)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "generated %d images into %s (manifest.jsonl)\n", n, o.Out)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.Checkpoint, "ckpt", "", "checkpoint folder")
	fl.StringVar(&o.Manifest, "manifest", "", "sample manifest (references and prompts)")
	fl.StringVar(&o.Out, "out", "", "output folder")
	fl.StringVar(&o.Variant, "variant", "", "variant name for the generated rows (default: keep)")
	fl.IntVar(&o.Batch, "batch", o.Batch, "images per sampler batch")
	fl.IntVar(&o.Sample.Steps, "steps", o.Sample.Steps, "Euler steps")
	fl.Float64Var(&o.Sample.Guidance, "guidance", o.Sample.Guidance, "classifier-free guidance scale (1: none)")
	fl.Uint64Var(&o.Sample.Seed, "seed", o.Sample.Seed, "noise seed")
	fl.StringVar((*string)(&o.Device), "device", string(flowdit.CPU), "cpu (GoMLX's pure-Go backend) or cuda (XLA with a PJRT CUDA plugin)")
	return c
}
