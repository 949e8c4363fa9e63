package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/ablations/cluster"
	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/score"
)

func newScoreCmd() *cobra.Command {
	var (
		sf          scoringFlags
		opt         score.Options
		shard       string
		shards      int
		maxFileMB   int64
		profile     string
		timings     bool
		strict      bool
		maxFailures float64
		x100        bool
		jf          judgeFlags
	)
	c := &cobra.Command{
		Use:   "score --manifest SAMPLES --models MODELS --out DIR",
		Short: "Score samples on the five CHARIS axes and write a scored run",
		Long: `Score every (reference, prompt, generated) sample of a manifest (JSON lines, or CSV with a
header) on identity consistency, prompt adherence, region-wise colour fidelity, visual
quality and transformation diversity, plus the classic DINO, CLIP-I and CLIP-T cosines.

Writes DIR/samples.jsonl (one result per sample, in manifest order), DIR/summary.json
(per-variant means with 95% intervals from a bootstrap over subjects, failures,
provenance) and prints a table. Finished samples are kept in DIR/work.jsonl as they
complete: after Ctrl-C or a crash, the same command continues where it stopped.

A bad sample (missing, corrupt or oversize image, empty prompt, mask of the wrong size)
gets status "error" with a reason and the run goes on. Exit code 1 when failures exceed
--max-failures (a fraction), or any failure with --strict; 2 for invalid input.

Encoder outputs and finished samples are cached in a SQLite database (--cache), so
re-scoring the same inputs is fast.`,
		Example: `  charisbench score --manifest out/world/manifest.jsonl --models out/world/models.yaml --out runs/world
  charisbench score --manifest samples.csv --models models.yaml --config metric.yaml --out runs/mine --x100`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opt.Manifest == "" || sf.models == "" || opt.Out == "" {
				return fmt.Errorf("--manifest, --models and --out are required")
			}
			if !(maxFailures >= 0 && maxFailures <= 1) {
				return fmt.Errorf("--max-failures must be a fraction in [0, 1], got %v", maxFailures)
			}
			if maxFileMB <= 0 {
				return fmt.Errorf("--max-file-mb must be positive, got %d", maxFileMB)
			}
			opt.MaxFileBytes = maxFileMB << 20
			stopProfile, err := cpuProfile(profile)
			if err != nil {
				return err
			}
			defer stopProfile()
			if opt.Shard, err = cluster.ParseShard(shard, shards, os.Getenv); err != nil {
				return err
			}
			set, err := sf.open()
			if err != nil {
				return err
			}
			defer set.close()
			opt.Models, opt.Config, opt.Cache, opt.Runtime = set.models, set.config, set.cache, set.runtime
			judged, closeJudge, err := jf.scoreJudge(set)
			if err != nil {
				return err
			}
			defer closeJudge()
			opt.Judge = judged
			if x100 {
				opt.ClassicScale = 100
			}
			opt.Progress = terminal(c.ErrOrStderr())
			if timings {
				opt.Log = slog.New(slog.NewTextHandler(c.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			sum, err := score.Run(ctx, opt)
			if err != nil {
				if ctx.Err() != nil {
					return checkFailed{err}
				}
				return err
			}
			if err := score.WriteTable(c.OutOrStdout(), sum); err != nil {
				return err
			}
			for _, w := range sum.Warnings {
				fmt.Fprintln(c.ErrOrStderr(), "warning:", w)
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %s/%s and %s/%s\n", opt.Out, charis.SamplesFile, opt.Out, charis.SummaryFile)
			failed, total := 0, 0
			for _, v := range sum.Variants {
				failed, total = failed+v.Failures, total+v.N
			}
			switch {
			case strict && failed > 0:
				return checkFailed{fmt.Errorf("%d of %d samples failed (--strict)", failed, total)}
			case float64(failed) > maxFailures*float64(total):
				return checkFailed{fmt.Errorf("%d of %d samples failed, more than --max-failures %.3g", failed, total, maxFailures)}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&opt.Manifest, "manifest", "", "sample manifest (.jsonl, or .csv with a header)")
	fl.StringVar(&opt.Out, "out", "", "run folder to write")
	fl.BoolVar(&strict, "strict", false, "exit 1 if any sample fails")
	fl.Float64Var(&maxFailures, "max-failures", 0.05, "exit 1 if more than this fraction of samples fail")
	fl.BoolVar(&x100, "x100", false, "print classic metrics (DINO, CLIP-I, CLIP-T) ×100, as DreamBench++ does")
	fl.BoolVar(&opt.Restart, "restart", false, "discard a partial run of other inputs in --out")
	fl.IntVar(&opt.Workers, "workers", 0, "decoding goroutines (0: one per CPU)")
	fl.StringVar(&profile, "cpuprofile", "", "write a CPU profile to this file (go tool pprof)")
	fl.BoolVar(&timings, "timings", false, "log to stderr as each stage ends, when and how long: loading the encoders, and per chunk preparing, each encoder, the axes (docs/models.md)")
	fl.Int64Var(&maxFileMB, "max-file-mb", score.DefaultMaxFileBytes>>20, "largest image or mask file read, in MiB (a larger one is that sample's error)")
	fl.StringVar(&shard, "shard", "", "score shard i of n only (i/n, 0-based; subjects stay whole), or auto: from a Slurm array or Kubernetes Indexed Job; join with merge")
	fl.IntVar(&shards, "shards", 0, "with --shard auto under Kubernetes: the shard count (default $"+cluster.ShardsEnv+")")
	sf.register(c)
	jf.register(c, "judge", "add the hierarchical identity judge (docs/judge.md): vlm or probe; its verdicts go beside the axes, judge IC as axis judge_ic")
	return c
}

// terminal returns w when it is a terminal (for progress lines), nil otherwise.
func terminal(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return f
}
