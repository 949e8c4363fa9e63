package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/ablations"
	"github.com/charisbench/charisbench/ablations/cluster"
	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/generators/flowdit"
	"github.com/charisbench/charisbench/metrics/cache"
	"github.com/charisbench/charisbench/metrics/score"
)

func newRunCmd() *cobra.Command {
	var (
		rf        runtimeFlags
		o         ablations.Options
		variants  []string
		shard     string
		shards    int
		resume    bool
		cachePath string
		device    string
		out       string
		profile   string
	)
	c := &cobra.Command{
		Use:   "run ABLATIONS.yaml",
		Short: "Run an ablation grid: train, generate, score and report every variant",
		Long: `Run every variant of an ablations file (docs/ablations.md) through its stages:
train (flowdit fine-tuning) -> generate -> score -> report. Each stage's output is keyed by
its inputs: a rerun with --resume skips what is done, after a crash or a kill -9 too, and
never duplicates a sample. The report (tables, plots, report.html and the paper's tables)
lands in OUT/report.

--shard i/n runs every n-th variant starting at i (0-based) for splitting a grid across
machines; --shard auto takes i and n from a Slurm job array or a Kubernetes Indexed Job
(docs/scale.md, 'charisbench plan'); 'charisbench merge' joins the shards' folders and
writes the report.`,
		Example: `  charisbench run examples/charis-world/ablations.yaml
  charisbench run ablations.yaml --resume --only score --variants masked,full
  charisbench run ablations.yaml --shard 0/2     # and --shard 1/2 elsewhere, then merge`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := ablations.Load(args[0])
			if err != nil {
				return err
			}
			if out != "" {
				if f.Out, err = filepath.Abs(out); err != nil {
					return err
				}
			}
			stopProfile, err := cpuProfile(profile)
			if err != nil {
				return err
			}
			defer stopProfile()
			sh, err := cluster.ParseShard(shard, shards, os.Getenv)
			if err != nil {
				return err
			}
			if sh != nil {
				o.Shard, o.Shards = sh.Index, sh.Count
			}
			if _, err := os.Stat(filepath.Join(f.OutDir(), "variants")); err == nil && !resume {
				return fmt.Errorf("%s holds an earlier run: pass --resume to continue it (finished stages are kept), or set out: elsewhere", f.OutDir())
			}
			o.Variants, o.Device = variants, flowdit.Device(device)
			if cachePath == "" {
				cachePath = filepath.Join(f.OutDir(), "cache.sqlite")
			}
			if o.Cache, err = cache.Open(cachePath); err != nil {
				return err
			}
			defer o.Cache.Close()
			if o.Runtime, err = rf.open(); err != nil {
				return err
			}
			defer o.Runtime.Close()
			o.Progress = c.ErrOrStderr()
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := ablations.Run(ctx, f, o)
			switch {
			case err != nil && ctx.Err() != nil:
				return checkFailed{fmt.Errorf("%w (finished stages are kept: rerun with --resume)", err)}
			case err != nil && res != nil: // some variants failed, the others finished
				if perr := printResult(c, res); perr != nil {
					return perr
				}
				return checkFailed{err}
			case err != nil:
				return err
			}
			return printResult(c, res)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.Only, "only", "", "run one stage only: train, generate, score or report")
	fl.StringSliceVar(&variants, "variants", nil, "run these variants only (comma-separated names)")
	fl.StringVar(&shard, "shard", "", "run shard i of n (i/n, 0-based), or auto: from the scheduler (Slurm array, Kubernetes Indexed Job)")
	fl.IntVar(&shards, "shards", 0, "with --shard auto under Kubernetes: the shard count (default $"+cluster.ShardsEnv+")")
	fl.BoolVar(&resume, "resume", false, "continue the run already in the output folder")
	fl.StringVar(&cachePath, "cache", "", "embedding cache (default: OUT/cache.sqlite)")
	fl.StringVar(&profile, "cpuprofile", "", "write a CPU profile to this file (go tool pprof)")
	fl.StringVar(&out, "out", "", "run folder (default: the file's out:, else runs/NAME beside the file)")
	fl.StringVar(&device, "gen-device", string(flowdit.CPU), "where flowdit trains and samples: cpu or cuda")
	rf.register(c)
	return c
}

func newMergeCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "merge [ABLATIONS.yaml] SHARD_DIR... [--out DIR]",
		Short: "Join sharded runs: scored shards (score --shard) or ablation shards (run --shard)",
		Long: `Join the folders of shards into one run.

Scored shards (charisbench score --shard i/n): --out DIR gets samples.jsonl in manifest order
and summary.json over all samples, equal to an unsharded run's but for the provenance. It
refuses shards of different manifests, metric configs, encoders or calibrations, a shard
missing or given twice, and a sample missing or scored twice.

Ablation shards (charisbench run --shard): name the ablations file first; every variant must
be scored in exactly one shard; the report is written over all variants.`,
		Example: `  charisbench merge --out runs/merged shards/0 shards/1 shards/2 shards/3
  charisbench merge ablations.yaml shard0/runs/demo shard1/runs/demo`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if ext := strings.ToLower(filepath.Ext(args[0])); ext == ".yaml" || ext == ".yml" {
				return mergeAblations(c, args[0], args[1:], out)
			}
			if out == "" {
				return fmt.Errorf("--out is required to merge scored shards")
			}
			sum, err := score.Merge(out, args)
			if err != nil {
				return err
			}
			if err := score.WriteTable(c.OutOrStdout(), sum); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "merged %d shards into %s/%s and %s/%s\n", len(args), out, charis.SamplesFile, out, charis.SummaryFile)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "folder of the merged run (for ablations: default the file's out:, else runs/NAME)")
	return c
}

func mergeAblations(c *cobra.Command, file string, shards []string, out string) error {
	if len(shards) == 0 {
		return fmt.Errorf("name the shards' run folders after %s", file)
	}
	f, err := ablations.Load(file)
	if err != nil {
		return err
	}
	if out != "" {
		if f.Out, err = filepath.Abs(out); err != nil {
			return err
		}
	}
	res, err := ablations.Merge(f, shards)
	if err != nil {
		return err
	}
	return printResult(c, res)
}

func printResult(c *cobra.Command, res *ablations.Result) error {
	out := c.OutOrStdout()
	if res.Report == "" {
		fmt.Fprintf(out, "ran %d variants into %s (merge the shards to report)\n", len(res.Variants), res.Out)
		return nil
	}
	for _, t := range res.Tables {
		if strings.HasSuffix(t, ".md") {
			data, err := os.ReadFile(t)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s\n", data)
		}
	}
	fmt.Fprintf(out, "report: %s (report.html, table.md, table.tex, paper_*.md, paper_*.tex, evidence.md, contact_sheet.png, plots)\n", res.Report)
	return nil
}
