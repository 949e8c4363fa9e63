package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/internal/gomlxbackend"
	"github.com/charisbench/charisbench/metrics/cache"
	"github.com/charisbench/charisbench/metrics/encoder"
)

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "charisbench",
		Short: "Evaluate subject-driven image generation with the CHARIS metric",
		Long: `charisbench scores (reference, prompt, generated) samples on the five CHARIS axes
(identity consistency, prompt adherence, region-wise colour fidelity, visual quality,
transformation diversity) with ONNX encoders, runs generators under ablation settings,
and writes tables, plots and CI gates.

Exit codes: 0 success, 1 a check failed, 2 invalid input or usage.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see %s --help)", err, c.CommandPath())
	})
	root.AddCommand(
		newVersionCmd(),
		newModelsCmd(),
		newPreprocessCmd(),
		newTokenizeCmd(),
		newEmbedCmd(),
		newWorldCmd(),
		newScoreCmd(),
		newCalibrateCmd(),
		newValidateCmd(),
		newPlanCmd(),
		newGateCmd(),
		newReportCmd(),
		newGenCmd(),
		newRunCmd(),
		newMergeCmd(),
		newJudgeCmd(),
		newManifestCmd(),
	)
	return root
}

// printJSON writes v as indented JSON, the format of every --json output.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(v)
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the charisbench version and build",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			commit := charis.Commit()
			if commit == "" {
				commit = "unknown"
			}
			fmt.Fprintf(c.OutOrStdout(), "charisbench %s (commit %s, %s, %s/%s)\n",
				charis.Version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// runtimeFlags are the encoder runtime settings every encoder-running command takes.
type runtimeFlags struct {
	engine  string
	device  string
	gpu     int
	threads int
	batch   int
	library string
}

func (f *runtimeFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.engine, "runtime", string(encoder.ONNXRuntime), "what runs the encoders: onnxruntime, or gomlx (the same ONNX files on GoMLX: its pure-Go backend on cpu, XLA with a PJRT CUDA plugin in $"+gomlxbackend.PluginEnv+" on cuda)")
	fl.StringVar(&f.device, "device", "cpu", "where encoders run: cpu, cuda, or auto (cuda when available, else cpu)")
	fl.IntVar(&f.gpu, "gpu", 0, "CUDA device id, with --device cuda or auto")
	fl.IntVar(&f.threads, "threads", 0, "intra-op threads per encoder (0: one per core; onnxruntime only)")
	fl.IntVar(&f.batch, "batch", 0, fmt.Sprintf("images or prompts per encoder batch (0: %d on the CPU, %d on CUDA)", encoder.CPUBatchSize, encoder.CUDABatchSize))
	fl.StringVar(&f.library, "ort-lib", "", "libonnxruntime to load (default: $"+encoder.LibraryEnv+", then the one 'make ort' installs)")
}

func (f *runtimeFlags) open() (*encoder.Runtime, error) {
	if f.batch < 0 {
		return nil, fmt.Errorf("--batch must be 0 (the device's default) or more, got %d", f.batch)
	}
	if f.threads < 0 {
		return nil, fmt.Errorf("--threads must be 0 (one per core) or more, got %d", f.threads)
	}
	return encoder.Open(encoder.Options{Engine: encoder.Engine(f.engine), Library: f.library, Device: encoder.Device(f.device), GPU: f.gpu,
		Threads: f.threads, BatchSize: f.batch})
}

// cacheFlags are the embedding-cache settings of the commands that run encoders.
type cacheFlags struct {
	path    string
	noCache bool
}

func (f *cacheFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.path, "cache", "", "embedding cache database (default: the user cache folder)")
	fl.BoolVar(&f.noCache, "no-cache", false, "do not read or write the embedding cache")
	c.MarkFlagsMutuallyExclusive("cache", "no-cache")
}

// open opens the cache, or returns nil with --no-cache.
func (f *cacheFlags) open() (*cache.Cache, error) {
	if f.noCache {
		return nil, nil
	}
	p := f.path
	if p == "" {
		var err error
		if p, err = cache.DefaultPath(); err != nil {
			return nil, fmt.Errorf("no cache folder (%v): pass --cache PATH or --no-cache", err)
		}
	}
	return cache.Open(p)
}

// scoringFlags are the settings of every command that runs CHARIS: the model manifest, the
// metric config, the embedding cache and the encoder runtime.
type scoringFlags struct {
	models, config string
	cache          cacheFlags
	runtime        runtimeFlags
}

func (f *scoringFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.models, "models", "", "model manifest (models.yaml)")
	fl.StringVar(&f.config, "config", "", "metric config YAML (default: CHARIS v2's defaults, docs/metric.md; version: 1 gives v1)")
	f.cache.register(c)
	f.runtime.register(c)
}

// scoring is what scoringFlags open; close releases the cache and the runtime.
type scoring struct {
	models  *charis.ModelManifest
	config  charis.MetricConfig
	cache   *cache.Cache
	runtime *encoder.Runtime
}

func (s *scoring) close() {
	if s.cache != nil {
		s.cache.Close()
	}
	if s.runtime != nil {
		s.runtime.Close()
	}
}

// open loads the manifest and the config, then opens the cache and the runtime. On an
// error nothing stays open.
func (f *scoringFlags) open() (*scoring, error) {
	if f.models == "" {
		return nil, fmt.Errorf("--models is required")
	}
	s := &scoring{}
	var err error
	if s.models, err = charis.LoadModelManifest(f.models); err != nil {
		return nil, err
	}
	if s.config, err = charis.LoadMetricConfig(f.config); err != nil {
		return nil, err
	}
	if s.cache, err = f.cache.open(); err != nil {
		return nil, err
	}
	if s.runtime, err = f.runtime.open(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// cpuProfile writes a CPU profile of the command to path (go tool pprof reads it); stop
// ends it. An empty path profiles nothing.
func cpuProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
