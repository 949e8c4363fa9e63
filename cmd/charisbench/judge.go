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

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/cache"
	"github.com/charisbench/charisbench/metrics/encoder"
	"github.com/charisbench/charisbench/metrics/judge"
	"github.com/charisbench/charisbench/metrics/score"
)

// judgeFlags select and configure the identity judge's backend.
type judgeFlags struct {
	backend string
	kb      string
	class   string
	probe   judge.ProbeOptions
	vlm     judge.VLMOptions
}

func (f *judgeFlags) register(c *cobra.Command, backendFlag, backendHelp string) {
	fl := c.Flags()
	fl.StringVar(&f.backend, backendFlag, f.backend, backendHelp)
	fl.StringVar(&f.kb, "kb", "", "knowledge-base YAML laid over the built-in one (docs/judge.md)")
	fl.StringVar(&f.class, "class", "", `subject class for manifest rows without "class" (default: object)`)
	fl.Float64Var(&f.probe.ColourDeltaE, "probe-delta-e", judge.DefaultProbeOptions.ColourDeltaE, "probe: CIEDE2000 above which a body colour counts as changed")
	fl.Float64Var(&f.probe.ClassDoubt, "probe-doubt", judge.DefaultProbeOptions.ClassDoubt, "probe: a class counts as changed when the generated image gives the reference's value less than this probability")
	fl.StringVar(&f.vlm.Endpoint, "vlm-endpoint", "", "vlm: OpenAI-compatible API base URL, e.g. http://localhost:8000/v1 (default $"+judge.EnvEndpoint+")")
	fl.StringVar(&f.vlm.Model, "vlm-model", "", "vlm: model name (default $"+judge.EnvModel+")")
	fl.IntVar(&f.vlm.Concurrency, "vlm-concurrency", 4, "vlm: requests in flight")
	fl.Float64Var(&f.vlm.PerMinute, "vlm-per-minute", 0, "vlm: requests started per minute (0: no limit)")
	fl.IntVar(&f.vlm.Retries, "vlm-retries", 4, "vlm: further tries after a 429, a 5xx or a timeout (-1: none)")
	fl.DurationVar(&f.vlm.Timeout, "vlm-timeout", 2*time.Minute, "vlm: time allowed for one answer")
	fl.IntVar(&f.vlm.Seed, "vlm-seed", 0, "vlm: seed sent with temperature 0")
}

// open builds the backend and the knowledge base: vlm answers are cached in c (nil:
// none); the probe reads the attributes model of models with rt. close releases the
// backend. The API key comes only from the environment ($CHARISBENCH_VLM_API_KEY), never a
// flag that would show in process lists and shell history.
func (f *judgeFlags) open(c *cache.Cache, models *charis.ModelManifest, rt *encoder.Runtime) (b judge.Backend, kb *judge.KB, close func(), err error) {
	kb = judge.DefaultKB()
	if f.kb != "" {
		if kb, err = judge.LoadKB(f.kb); err != nil {
			return nil, nil, nil, err
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
		return v, kb, func() {}, err
	case "probe":
		if models == nil || rt == nil {
			return nil, nil, nil, fmt.Errorf("judge backend probe: --models is required (a charis-world benchmark's models.yaml)")
		}
		p, err := judge.NewProbe(rt, models, f.probe, 0)
		if err != nil {
			return nil, nil, nil, err
		}
		return p, kb, func() { p.Close() }, nil
	default:
		return nil, nil, nil, fmt.Errorf("unknown judge backend %q (want vlm or probe)", f.backend)
	}
}

// scoreJudge opens the judge a scoring command adds (score, validate): nil when --judge
// is not given.
func (f *judgeFlags) scoreJudge(set *scoring) (*score.JudgeOptions, func(), error) {
	if f.backend == "" {
		return nil, func() {}, nil
	}
	b, kb, closeBackend, err := f.open(set.cache, set.models, set.runtime)
	if err != nil {
		return nil, nil, err
	}
	return &score.JudgeOptions{Backend: b, KB: kb, Class: f.class}, closeBackend, nil
}

func newJudgeCmd() *cobra.Command {
	var (
		jf        = judgeFlags{backend: "vlm"}
		cf        cacheFlags
		rf        runtimeFlags
		models    string
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
rerun or an interrupted run continues at no cost. Backend probe reads charis-world
characters with the attributes model of --models (a world benchmark's models.yaml); on a
charis-world manifest, the verdicts' agreement with the ground truth is printed too.

Writes DIR/judgments.jsonl (one line per manifest row, in order; a row that cannot be judged
has status "error" and a reason) and prints judge IC and the most often drifted attributes
per variant.`,
		Example: `  CHARISBENCH_VLM_ENDPOINT=http://localhost:8000/v1 CHARISBENCH_VLM_MODEL=Qwen/Qwen2.5-VL-7B-Instruct \
    charisbench judge --manifest runs/samples.jsonl --out runs/judge --class dog
  charisbench judge --backend probe --models out/world/models.yaml --manifest out/world/manifest.jsonl --out out/world/judge`,
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
			var m *charis.ModelManifest
			var rt *encoder.Runtime
			if jf.backend == "probe" {
				if models == "" {
					return fmt.Errorf("--backend probe needs --models (a charis-world benchmark's models.yaml)")
				}
				if m, err = charis.LoadModelManifest(models); err != nil {
					return err
				}
				if rt, err = rf.open(); err != nil {
					return err
				}
				defer rt.Close()
			}
			b, kb, closeBackend, err := jf.open(db, m, rt)
			if err != nil {
				return err
			}
			defer closeBackend()
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
			samples, err := charis.ReadManifest(opt.Manifest)
			if err != nil {
				return err
			}
			if len(samples) > 0 && len(samples[0].World) > 0 { // charis-world: the verdicts can be checked
				agr, err := judge.Agreement(samples, res)
				if err != nil {
					return err
				}
				writeAgreementTable(c.OutOrStdout(), agr)
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %s/judgments.jsonl\n", opt.Out)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&opt.Manifest, "manifest", "", "sample manifest (.jsonl, or .csv with a header)")
	fl.StringVar(&opt.Out, "out", "", "folder to write judgments.jsonl in")
	fl.Int64Var(&maxFileMB, "max-file-mb", score.DefaultMaxFileBytes>>20, "largest image file read, in MiB (a larger one is that sample's error)")
	fl.StringVar(&models, "models", "", "probe: model manifest with the attributes model (a charis-world benchmark's models.yaml)")
	jf.register(c, "backend", "judge backend: vlm (a VLM server) or probe (charis-world's attribute heads)")
	cf.register(c)
	rf.register(c)
	return c
}

// writeAgreementTable prints how often the verdicts equal charis-world's ground truth.
func writeAgreementTable(w io.Writer, agr []judge.VariantAgreement) {
	fmt.Fprintln(w, "\nagreement with charis-world's ground truth (docs/judge.md):")
	fmt.Fprintln(w, "(judge IC, truth's: the mean a judge that is never wrong would give, the ceiling of its separations)")
	fmt.Fprintln(w, "| variant | samples | checks agreeing | changed samples flagged | judge IC | judge IC, truth's | per attribute |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, v := range agr {
		flag := "–"
		if v.Changed > 0 {
			flag = fmt.Sprintf("%.3f (%d of %d)", float64(v.Flagged)/float64(v.Changed), v.Flagged, v.Changed)
		}
		var per []string
		for _, a := range v.Attributes {
			per = append(per, fmt.Sprintf("%s %.2f", a.Attribute, float64(a.Agree)/float64(max(a.N, 1))))
		}
		ic, tic := "–", "–"
		if v.ICN > 0 {
			ic, tic = fmt.Sprintf("%.3f", v.IC), fmt.Sprintf("%.3f", v.TruthIC)
		}
		fmt.Fprintf(w, "| %s | %d | %.3f (%d of %d) | %s | %s | %s | %s |\n", v.Variant, v.Samples, float64(v.Agree)/float64(max(v.N, 1)), v.Agree, v.N, flag, ic, tic, strings.Join(per, ", "))
	}
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
