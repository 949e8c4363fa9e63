package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/ablations"
	"github.com/charisbench/charisbench/generators/flowdit"
	"github.com/charisbench/charisbench/metrics/cache"
)

func newRunCmd() *cobra.Command {
	var (
		rf        runtimeFlags
		o         ablations.Options
		variants  []string
		shard     string
		resume    bool
		cachePath string
		device    string
		out       string
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
machines; 'charisbench merge' joins the shards' folders and writes the report.`,
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
			if shard != "" {
				i, n, ok := strings.Cut(shard, "/")
				o.Shard, err = strconv.Atoi(i)
				if err == nil {
					o.Shards, err = strconv.Atoi(n)
				}
				if !ok || err != nil || o.Shards < 1 || o.Shard < 0 || o.Shard >= o.Shards {
					return fmt.Errorf("--shard: want i/n with 0 <= i < n, got %q", shard)
				}
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
	fl.StringVar(&shard, "shard", "", "run shard i of n (i/n, 0-based)")
	fl.BoolVar(&resume, "resume", false, "continue the run already in the output folder")
	fl.StringVar(&cachePath, "cache", "", "embedding cache (default: OUT/cache.sqlite)")
	fl.StringVar(&out, "out", "", "run folder (default: the file's out:, else runs/NAME beside the file)")
	fl.StringVar(&device, "gen-device", string(flowdit.CPU), "where flowdit trains and samples: cpu or cuda")
	rf.register(c)
	return c
}

func newMergeCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:     "merge ABLATIONS.yaml SHARD_OUT...",
		Short:   "Join the run folders of shards and write the report",
		Example: "  charisbench merge ablations.yaml shard0/runs/demo shard1/runs/demo",
		Args:    cobra.MinimumNArgs(2),
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
			res, err := ablations.Merge(f, args[1:])
			if err != nil {
				return err
			}
			return printResult(c, res)
		},
	}
	c.Flags().StringVar(&out, "out", "", "run folder to merge into (default: the file's out:, else runs/NAME beside the file)")
	return c
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
	fmt.Fprintf(out, "report: %s (report.html, table.md, table.tex, paper_*.md, paper_*.tex, plots)\n", res.Report)
	return nil
}
