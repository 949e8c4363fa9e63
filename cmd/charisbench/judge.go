package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/metrics/cache"
	"github.com/charisbench/charisbench/metrics/judge"
	"github.com/charisbench/charisbench/metrics/score"
)

// judgeFlags select and configure the identity judge's backend.
type judgeFlags struct {
	backend string
	kb      string
	class   string
	vlm     judge.VLMOptions
}

func (f *judgeFlags) register(c *cobra.Command, backendFlag, backendHelp string) {
	fl := c.Flags()
	fl.StringVar(&f.backend, backendFlag, f.backend, backendHelp)
	fl.StringVar(&f.kb, "kb", "", "knowledge-base YAML laid over the built-in one (docs/judge.md)")
	fl.StringVar(&f.class, "class", "", `subject class for manifest rows without "class" (default: object)`)
	fl.StringVar(&f.vlm.Endpoint, "vlm-endpoint", "", "vlm: OpenAI-compatible API base URL, e.g. http://localhost:8000/v1 (default $"+judge.EnvEndpoint+")")
	fl.StringVar(&f.vlm.Model, "vlm-model", "", "vlm: model name (default $"+judge.EnvModel+")")
	fl.IntVar(&f.vlm.Concurrency, "vlm-concurrency", 4, "vlm: requests in flight")
	fl.Float64Var(&f.vlm.PerMinute, "vlm-per-minute", 0, "vlm: requests started per minute (0: no limit)")
	fl.IntVar(&f.vlm.Retries, "vlm-retries", 4, "vlm: further tries after a 429, a 5xx or a timeout (-1: none)")
	fl.DurationVar(&f.vlm.Timeout, "vlm-timeout", 2*time.Minute, "vlm: time allowed for one answer")
	fl.IntVar(&f.vlm.Seed, "vlm-seed", 0, "vlm: seed sent with temperature 0")
}

// open builds the backend (answers cached in c; nil: none) and the knowledge base. The
// API key comes only from the environment ($CHARISBENCH_VLM_API_KEY), never a flag that
// would show in process lists and shell history.
func (f *judgeFlags) open(c *cache.Cache) (judge.Backend, *judge.KB, error) {
	kb := judge.DefaultKB()
	if f.kb != "" {
		var err error
		if kb, err = judge.LoadKB(f.kb); err != nil {
			return nil, nil, err
		}
	}
	switch f.backend {
	case "vlm":
		opt := f.vlm
		opt.Endpoint = cmp.Or(opt.Endpoint, os.Getenv(judge.EnvEndpoint))
		opt.Model = cmp.Or(opt.Model, os.Getenv(judge.EnvModel))
		opt.APIKey = os.Getenv(judge.EnvAPIKey)
		opt.Cache = c
		v, err := judge.NewVLM(opt)
		return v, kb, err
	case "probe":
		return nil, nil, fmt.Errorf("judge backend probe: not available (the charis-world attribute heads are not trained yet); use vlm")
	default:
		return nil, nil, fmt.Errorf("unknown judge backend %q (want vlm)", f.backend)
	}
}

func newJudgeCmd() *cobra.Command {
	var (
		jf        = judgeFlags{backend: "vlm"}
		cf        cacheFlags
		opt       judge.RunOptions
		maxFileMB int64
	)
	c := &cobra.Command{
		Use:   "judge --manifest SAMPLES --out DIR",
		Short: "Judge identity the hierarchical way: which attributes drifted, sample by sample",
		Long: `Judge every (reference, prompt, generated) sample of a manifest with the hierarchical
identity judge of CHARIS (docs/judge.md): the subject's type and style, then each attribute
and feature the knowledge base lists for its class, each answered kept, changed as the
prompt asks, changed without being asked, or not visible, with what it was and what it
became. Judge IC = kept / (kept + changed without being asked).

Backend vlm asks a vision-language model behind an OpenAI-compatible chat-completions API
(vLLM, Ollama, hosted APIs): endpoint and model from flags or $` + judge.EnvEndpoint + ` and
$` + judge.EnvModel + `, the key from $` + judge.EnvAPIKey + `. Every answer is cached (--cache), so a
rerun or an interrupted run continues at no cost.

Writes DIR/judgments.jsonl (one line per manifest row, in order; a row that cannot be judged
has status "error" and a reason) and prints judge IC and the most often drifted attributes
per variant.`,
		Example: `  CHARISBENCH_VLM_ENDPOINT=http://localhost:8000/v1 CHARISBENCH_VLM_MODEL=Qwen/Qwen2.5-VL-7B-Instruct \
    charisbench judge --manifest runs/samples.jsonl --out runs/judge --class dog`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opt.Manifest == "" || opt.Out == "" {
				return fmt.Errorf("--manifest and --out are required")
			}
			if maxFileMB <= 0 {
				return fmt.Errorf("--max-file-mb must be positive, got %d", maxFileMB)
			}
			opt.MaxFileBytes = maxFileMB << 20
			db, err := cf.open()
			if err != nil {
				return err
			}
			if db != nil {
				defer db.Close()
			}
			b, kb, err := jf.open(db)
			if err != nil {
				return err
			}
			opt.Backend, opt.KB, opt.Class = b, kb, jf.class
			opt.Workers = jf.vlm.Concurrency
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := judge.Run(ctx, opt)
			if err != nil {
				if ctx.Err() != nil {
					return checkFailed{err}
				}
				return err
			}
			writeJudgeTable(c.OutOrStdout(), judge.Summarize(res))
			fmt.Fprintf(c.OutOrStdout(), "wrote %s/judgments.jsonl\n", opt.Out)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&opt.Manifest, "manifest", "", "sample manifest (.jsonl, or .csv with a header)")
	fl.StringVar(&opt.Out, "out", "", "folder to write judgments.jsonl in")
	fl.Int64Var(&maxFileMB, "max-file-mb", score.DefaultMaxFileBytes>>20, "largest image file read, in MiB (a larger one is that sample's error)")
	jf.register(c, "backend", "judge backend: vlm")
	cf.register(c)
	return c
}

// writeJudgeTable prints judge IC and the most drifted attributes per variant (Markdown).
func writeJudgeTable(w io.Writer, sum []judge.VariantSummary) {
	fmt.Fprintln(w, "| variant | judged | failed | judge IC | most often drifted |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | --- |")
	for _, v := range sum {
		ic := "–"
		if v.ICN > 0 {
			ic = fmt.Sprintf("%.3f", v.IC)
		}
		var top []string
		for _, d := range v.Drifted[:min(5, len(v.Drifted))] {
			top = append(top, fmt.Sprintf("%s (%d)", d.Attribute, d.Count))
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s |\n", v.Variant, v.Judged, v.Failed, ic, strings.Join(top, ", "))
	}
}
