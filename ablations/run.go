package ablations

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/readfile"
	"github.com/charisbench/charisbench/charis/world"
	"github.com/charisbench/charisbench/generators/flowdit"
	"github.com/charisbench/charisbench/metrics/cache"
	"github.com/charisbench/charisbench/metrics/encoder"
	"github.com/charisbench/charisbench/metrics/score"
)

// Stages of a variant, in order.
const (
	StageTrain    = "train"
	StageGenerate = "generate"
	StageScore    = "score"
	StageReport   = "report"
)

// Stages lists them in order.
var Stages = []string{StageTrain, StageGenerate, StageScore, StageReport}

// Options configure Run.
type Options struct {
	Only     string   // run this stage only (others must be done already); "" runs all
	Variants []string // run these variants only; nil: all
	Shard    int      // this machine's shard, 0-based, with Shards > 1
	Shards   int
	Runtime  *encoder.Runtime
	Cache    *cache.Cache
	Device   flowdit.Device
	Log      *slog.Logger
	Progress io.Writer // stage lines on a terminal; nil: none
}

// Result says where the run put things.
type Result struct {
	Out      string
	Variants []string // variants this run handled
	Report   string   // report folder ("" when this shard does not report)
	Tables   []string // the paper's tables written
}

// Run drives every selected variant through train, generate, score and report. Each
// stage's inputs are hashed into a key stored beside its output; a stage whose key and
// output are in place is skipped, so a rerun (after a crash, a kill -9, or with more
// variants) redoes only what is missing. Stage outputs appear atomically (written aside,
// then renamed); scoring resumes inside itself.
func Run(ctx context.Context, f *File, o Options) (*Result, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Only != "" && !slices.Contains(Stages, o.Only) {
		return nil, fmt.Errorf("--only: unknown stage %q (want %v)", o.Only, Stages)
	}
	all, err := f.Expand()
	if err != nil {
		return nil, err
	}
	variants, err := selectVariants(all, o)
	if err != nil {
		return nil, err
	}
	out := f.OutDir()
	res := &Result{Out: out}
	bench, err := f.prepareBenchmark(out)
	if err != nil {
		return nil, err
	}
	models, err := charis.LoadModelManifest(bench.models)
	if err != nil {
		return nil, err
	}
	metric, err := charis.LoadMetricConfig(f.metricPath())
	if err != nil {
		return nil, err
	}
	start := time.Now()
	var failed []error
	reported := slices.Clone(all)
	for i, v := range variants {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r := &variantRun{f: f, v: v, dir: filepath.Join(out, "variants", v.Name), bench: bench, o: o, models: models, metric: metric}
		variantStart := time.Now()
		ok := true
		for _, st := range []string{StageTrain, StageGenerate, StageScore} {
			if o.Only != "" && o.Only != st {
				continue
			}
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "[%s elapsed%s] variant %d/%d %s: %s\n", time.Since(start).Round(time.Second),
					eta(variantStart.Sub(start), i, len(variants), time.Since(variantStart)), i+1, len(variants), v.Name, st)
			}
			stageStart := time.Now()
			if err := r.stage(ctx, st); err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("variant %s, %s: %w", v.Name, st, err)
				}
				// One variant's failure (a crashed generator, say) does not stop the others.
				err = fmt.Errorf("variant %s, %s: %w", v.Name, st, err)
				o.Log.Error("stage failed", "variant", v.Name, "stage", st, "err", err)
				failed = append(failed, err)
				reported = slices.DeleteFunc(reported, func(x Variant) bool { return x.Name == v.Name })
				ok = false
				break
			}
			o.Log.Info("stage done", "variant", v.Name, "stage", st, "seconds", time.Since(stageStart).Seconds())
		}
		if ok {
			res.Variants = append(res.Variants, v.Name)
		}
	}
	// The ground truth is scored once: by the run, or by its first shard (Merge copies it).
	if (o.Only == "" || o.Only == StageScore) && (o.Shards <= 1 || o.Shard == 0) {
		if err := scoreGroundTruth(ctx, out, bench, models, metric, o); err != nil {
			return nil, fmt.Errorf("scoring the ground truth: %w", err)
		}
	}
	if (o.Only == "" || o.Only == StageReport) && o.Shards <= 1 && len(reported) > 0 {
		res.Report = filepath.Join(out, "report")
		if res.Tables, err = WriteReport(out, reported); err != nil {
			return nil, err
		}
	}
	if len(failed) > 0 {
		return res, fmt.Errorf("%d of %d variants failed (the others are done and reported; rerun with --resume after fixing):\n%w",
			len(failed), len(variants), errors.Join(failed...))
	}
	return res, nil
}

// eta estimates the time left: the mean time of the done variants times those not done,
// less the time already spent on the current one ("" before the first is done).
func eta(doneTime time.Duration, done, total int, inCurrent time.Duration) string {
	if done == 0 {
		return ""
	}
	left := max(0, time.Duration(float64(doneTime)/float64(done)*float64(total-done))-inCurrent)
	return fmt.Sprintf(", ETA %s", left.Round(time.Second))
}

func (f *File) metricPath() string {
	if f.Metric == "" {
		return ""
	}
	return f.Resolve(f.Metric)
}

func selectVariants(all []Variant, o Options) ([]Variant, error) {
	var out []Variant
	for _, name := range o.Variants {
		if !slices.ContainsFunc(all, func(v Variant) bool { return v.Name == name }) {
			return nil, fmt.Errorf("--variants: no variant %q", name)
		}
	}
	if o.Shards > 1 && (o.Shard < 0 || o.Shard >= o.Shards) {
		return nil, fmt.Errorf("--shard %d/%d: want 0 <= i < n", o.Shard, o.Shards)
	}
	for i, v := range all {
		if len(o.Variants) > 0 && !slices.Contains(o.Variants, v.Name) {
			continue
		}
		if o.Shards > 1 && i%o.Shards != o.Shard {
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

// benchmark is the prepared sample manifest and its encoders.
type benchmark struct {
	manifest, models string
	sha              string // of the manifest file
}

// prepareBenchmark builds the charis-world benchmark once (keyed by its spec) or takes the
// given manifest.
func (f *File) prepareBenchmark(out string) (*benchmark, error) {
	b := &benchmark{}
	if f.Benchmark.Manifest != "" {
		b.manifest = f.Resolve(f.Benchmark.Manifest)
		if f.Models == "world" {
			return nil, fmt.Errorf("%s: models: world needs a world benchmark", f.path)
		}
		b.models = f.Resolve(f.Models)
	} else {
		w := f.Benchmark.World
		dir := filepath.Join(out, "benchmark")
		enc, err := world.EncodersID()
		if err != nil {
			return nil, err
		}
		key := benchmarkKey(*w, enc)
		if !keyMatches(dir, key) {
			err := atomicDir(dir, key, func(tmp string) error {
				return world.Build(tmp, world.BuildOptions{Subjects: w.Subjects, PromptsPerSubject: w.PromptsPerSubject, Seed: w.Seed, Size: w.Size})
			}, "manifest.jsonl", world.EncoderManifest) // a damaged one is built again, to the same bytes
			if err != nil {
				return nil, fmt.Errorf("building the charis-world benchmark: %w", err)
			}
		}
		b.manifest = filepath.Join(dir, "manifest.jsonl")
		b.models = filepath.Join(dir, world.EncoderManifest)
		if f.Models != "world" {
			b.models = f.Resolve(f.Models)
		}
	}
	data, err := os.ReadFile(b.manifest)
	if err != nil {
		return nil, err
	}
	b.sha = hashOf(string(data))
	return b, nil
}

// benchmarkKey is the key of a charis-world benchmark: its options and the world encoders
// it ships with (a newer charisbench's encoders rebuild it, so scoring uses them).
func benchmarkKey(w WorldSpec, encoders string) string {
	return hashOf("world-v1", w.Subjects, w.PromptsPerSubject, w.Seed, w.Size, encoders)
}

// variantRun carries one variant through its stages.
type variantRun struct {
	f      *File
	v      Variant
	dir    string
	bench  *benchmark
	o      Options
	models *charis.ModelManifest
	metric charis.MetricConfig
}

func (r *variantRun) checkpoint() string { return filepath.Join(r.dir, "checkpoint") }
func (r *variantRun) generated() string  { return filepath.Join(r.dir, "generated") }
func (r *variantRun) scored() string     { return filepath.Join(r.dir, "run") }

// keys: each stage's key covers its own inputs and the previous stage's key.
func (r *variantRun) trainKey() (string, error) {
	g := r.v.Generator
	if r.trainsExec() {
		return hashOf("exec-train-v2", g.Command, r.v.Typed(), g.TrainData, r.f.Benchmark.World), nil
	}
	if g.Kind != KindFlowdit {
		return hashOf("no-train", g.Kind), nil
	}
	info, err := readfile.Read("base checkpoint", filepath.Join(r.f.Resolve(g.Base), "checkpoint.json"), readfile.MaxStateBytes)
	if err != nil {
		return "", fmt.Errorf("base checkpoint: %w", err)
	}
	s := r.v.Settings
	return hashOf("train-v1", string(info), s.Loss, s.LoRALayers, s.Rank, s.Alpha, s.Steps, s.Batch, s.LearningRate, s.Seed), nil
}

func (r *variantRun) generateKey() (string, error) {
	tk, err := r.trainKey()
	if err != nil {
		return "", err
	}
	g, s := r.v.Generator, r.v.Settings
	if g.Kind == KindExec {
		return hashOf("generate-exec-v2", tk, r.bench.sha, r.v.Name, g.Command, g.Protocol, g.SamplesPerPrompt, r.v.Typed()), nil
	}
	return hashOf("generate-v1", tk, r.bench.sha, r.v.Name, g.Kind, g.Command, r.dirPath(), s.SampleSteps, s.Guidance, s.Seed), nil
}

// trainsExec reports whether the variant has an exec train stage (protocol 2).
func (r *variantRun) trainsExec() bool {
	return r.v.Generator.Kind == KindExec && r.v.Generator.Protocol == 2
}

// dirPath is a dir generator's folder for this variant ("{variant}" replaced by its name).
func (r *variantRun) dirPath() string {
	return r.f.Resolve(strings.ReplaceAll(r.v.Generator.Path, "{variant}", r.v.Name))
}

func (r *variantRun) scoreKey() (string, error) {
	gk, err := r.generateKey()
	if err != nil {
		return "", err
	}
	var shas []string
	for _, e := range r.models.Encoders {
		shas = append(shas, e.SHA256)
	}
	if r.o.Runtime != nil {
		if t := r.o.Runtime.CacheTag(); t != "" { // ONNX Runtime's keys stay as they were
			shas = append(shas, t)
		}
	}
	return hashOf("score-v1", gk, shas, r.metric.SHA256()), nil
}

func (r *variantRun) stage(ctx context.Context, st string) error {
	switch st {
	case StageTrain:
		if r.v.Generator.Kind != KindFlowdit && !r.trainsExec() {
			return nil
		}
		key, err := r.trainKey()
		if err != nil {
			return err
		}
		if done, err := finished(r.checkpoint(), key, "train the variant again"); done || err != nil {
			return err
		}
		if r.trainsExec() { // the program's own files: not sealed (they may be large)
			return atomicDir(r.checkpoint(), key, func(tmp string) error { return r.execTrain(ctx, tmp) })
		}
		s := r.v.Settings
		return atomicDir(r.checkpoint(), key, func(tmp string) error {
			return flowdit.Train(flowdit.TrainOptions{Stage: flowdit.Finetune, BaseDir: r.f.Resolve(r.v.Generator.Base),
				LoRA: flowdit.LoRA{Rank: s.Rank, Alpha: s.Alpha, Layers: s.LoRALayers}, Loss: s.Loss, Steps: s.Steps,
				Batch: s.Batch, LearningRate: s.LearningRate, Seed: s.Seed, Out: tmp, Device: r.o.Device})
		}, flowdit.FinetuneFiles...)
	case StageGenerate:
		key, err := r.generateKey()
		if err != nil {
			return err
		}
		if done, err := finished(r.generated(), key, "generate the variant again"); done || err != nil {
			return err
		}
		if tk, _ := r.trainKey(); r.v.Generator.Kind == KindFlowdit || r.trainsExec() {
			if done, err := finished(r.checkpoint(), tk, "train the variant again"); !done || err != nil {
				return cmp.Or(err, errors.New("the train stage has not run (run without --only, or --only train first)"))
			}
		}
		if r.v.Generator.Kind == KindExec { // resumes image by image in generating/, then becomes generated/
			if err := r.execGenerate(ctx); err != nil {
				return err
			}
			return renameStage(r.generatingDir(), r.generated(), key, generatedManifest)
		}
		return atomicDir(r.generated(), key, func(tmp string) error { return r.generate(ctx, tmp) }, generatedManifest)
	case StageScore:
		key, err := r.scoreKey()
		if err != nil || r.o.scoredAlready(r.scored(), key) {
			return err
		}
		gk, _ := r.generateKey()
		if done, err := finished(r.generated(), gk, "generate the variant again"); !done || err != nil {
			return cmp.Or(err, errors.New("the generate stage has not run (run without --only, or --only generate first)"))
		}
		return scoreInto(ctx, filepath.Join(r.generated(), generatedManifest), r.scored(), key, r.models, r.metric, r.o)
	}
	return nil
}

// generatedManifest is the generate stage's manifest of its images, sealed with the stage.
const generatedManifest = "manifest.jsonl"

// scoredAlready reports whether dir holds a finished scoring of key. A damaged one is
// scored again, which is exact: scoring resumes from its work log (or starts over) and
// gives the same bytes.
func (o Options) scoredAlready(dir, key string) bool {
	done, damaged := stageDone(dir, key)
	if damaged != nil && o.Log != nil {
		o.Log.Warn("a finished scoring is damaged: scoring it again", "error", damaged)
	}
	return done && damaged == nil
}

// RetrievalFile, in a scored run's folder, holds the identity retrieval of its generated
// images among the benchmark's references (score.Retrieval per variant).
const RetrievalFile = "retrieval.json"

// scoreInto scores manifest into dir, measures its identity retrieval, and marks dir done
// with key. Scoring resumes inside its folder (work.jsonl); a folder of other inputs restarts.
func scoreInto(ctx context.Context, manifest, dir, key string, models *charis.ModelManifest, metric charis.MetricConfig, o Options) error {
	prev, _ := readfile.Read("stage key", filepath.Join(dir, keyFile), readfile.MaxStateBytes)
	prevKey, _, _ := strings.Cut(string(prev), "\n")
	_, err := score.Run(ctx, score.Options{Manifest: manifest, Models: models, Config: metric, Out: dir,
		Runtime: o.Runtime, Cache: o.Cache, Log: o.Log, Restart: prevKey != "" && prevKey != key})
	if err != nil {
		return err
	}
	ret, err := score.IdentityRetrieval(o.Runtime, models, manifest, o.Cache)
	if err != nil {
		return fmt.Errorf("identity retrieval: %w", err)
	}
	data, err := json.MarshalIndent(ret, "", "  ")
	if err != nil {
		return err
	}
	if err := charis.WriteAtomic(filepath.Join(dir, RetrievalFile), func(f *os.File) error { _, err := f.Write(data); return err }); err != nil {
		return err
	}
	return writeKey(dir, key, charis.SummaryFile, charis.SamplesFile, RetrievalFile)
}

// GroundTruth names the pseudo-variant of the benchmark's own targets, scored beside the
// variants as a perfect generator would be: without their ground-truth masks, since
// generated images have none.
const GroundTruth = "ground_truth"

// scoreGroundTruth scores the benchmark's targets into out/ground_truth/run.
func scoreGroundTruth(ctx context.Context, out string, bench *benchmark, models *charis.ModelManifest, metric charis.MetricConfig, o Options) error {
	dir := filepath.Join(out, GroundTruth)
	var shas []string
	for _, e := range models.Encoders {
		shas = append(shas, e.SHA256)
	}
	key := hashOf("truth-v1", bench.sha, shas, metric.SHA256())
	run := filepath.Join(dir, "run")
	if o.scoredAlready(run, key) {
		return nil
	}
	samples, err := charis.ReadManifest(bench.manifest)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, filepath.Dir(bench.manifest))
	if err != nil {
		return err
	}
	rebase := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(rel, p)
	}
	for i := range samples {
		s := &samples[i]
		s.Variant, s.GeneratedMask = GroundTruth, ""
		s.Reference, s.ReferenceMask, s.Generated = rebase(s.Reference), rebase(s.ReferenceMask), rebase(s.Generated)
	}
	var buf bytes.Buffer
	if err := charis.WriteSamples(&buf, samples); err != nil {
		return err
	}
	manifest := filepath.Join(dir, "manifest.jsonl")
	if err := charis.WriteAtomic(manifest, func(f *os.File) error { _, err := buf.WriteTo(f); return err }); err != nil {
		return err
	}
	return scoreInto(ctx, manifest, run, key, models, metric, o)
}

// generate writes tmp/manifest.jsonl (and images) for the variant.
func (r *variantRun) generate(ctx context.Context, tmp string) error {
	g, s := r.v.Generator, r.v.Settings
	switch g.Kind {
	case KindFlowdit:
		_, err := flowdit.Generate(flowdit.GenerateOptions{Checkpoint: r.checkpoint(), Manifest: r.bench.manifest, Out: tmp,
			Variant: r.v.Name, Batch: 8, Sample: flowdit.SampleOptions{Steps: s.SampleSteps, Guidance: s.Guidance, Seed: s.Seed},
			Device: r.o.Device})
		return err
	case KindDir:
		return dirManifest(r.bench.manifest, r.dirPath(), r.v.Name, tmp)
	}
	return fmt.Errorf("unknown generator type %q", g.Kind)
}

const keyFile = "key"

// A finished stage's key file holds its key on the first line, then "SHA256 NAME" for each
// output file it seals: a file damaged after the stage finished (cut, emptied, swapped for
// another variant's) is found instead of read. Stages written before sealing have the key
// alone and match as they did.

// writeKey marks dir finished with key, sealing the named files in it.
func writeKey(dir, key string, sealed ...string) error {
	var b strings.Builder
	b.WriteString(key + "\n")
	for _, name := range sealed {
		sum, err := readfile.SHA256("stage output", filepath.Join(dir, name))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %s\n", sum, name)
	}
	return os.WriteFile(filepath.Join(dir, keyFile), []byte(b.String()), 0o644)
}

// stageDone reports whether dir holds a finished stage made from key; damaged names the
// sealed file that changed since, when one did.
func stageDone(dir, key string) (done bool, damaged error) {
	b, err := readfile.Read("stage key", filepath.Join(dir, keyFile), readfile.MaxStateBytes)
	if err != nil {
		return false, nil
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != key {
		return false, nil
	}
	for _, l := range lines[1:] {
		want, name, ok := strings.Cut(l, " ")
		if !ok {
			return true, fmt.Errorf("%s: line %q is not \"SHA256 NAME\"", filepath.Join(dir, keyFile), l)
		}
		path := filepath.Join(dir, name)
		got, err := readfile.SHA256("stage output", path)
		if err != nil {
			return true, err
		}
		if got != want {
			return true, fmt.Errorf("%s changed after its stage finished (sha256 %s, sealed %s)", path, got[:12], want[:12])
		}
	}
	return true, nil
}

// keyMatches reports whether dir holds a finished, undamaged stage output made from key.
func keyMatches(dir, key string) bool {
	done, damaged := stageDone(dir, key)
	return done && damaged == nil
}

// finished is keyMatches for a stage that cannot be redone to the same bytes (training,
// generating): a damaged output is an error saying how to recover, not a silent redo.
func finished(dir, key, redo string) (bool, error) {
	done, damaged := stageDone(dir, key)
	if damaged != nil {
		return false, fmt.Errorf("%v: delete %s to %s", damaged, dir, redo)
	}
	return done, nil
}

// atomicDir builds a stage output in a sibling temporary folder, writes its key last, and
// renames it into place: a kill leaves either the old output or none, never half of one.
func atomicDir(dir, key string, build func(tmp string) error, sealed ...string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := build(tmp); err != nil {
		return err
	}
	if err := writeKey(tmp, key, sealed...); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// renameStage finishes a stage built in place: its key is written last, then the folder
// replaces dir.
func renameStage(work, dir, key string, sealed ...string) error {
	if err := writeKey(work, key, sealed...); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(work, dir)
}

// hashOf hashes values by their JSON form.
func hashOf(values ...any) string {
	b, _ := json.Marshal(values)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Merge copies the scored runs of shard run folders, and the ground truth the first shard
// scored, into the file's run folder and writes the report over all variants. Every variant
// must be scored in exactly one shard.
func Merge(f *File, shards []string) (*Result, error) {
	all, err := f.Expand()
	if err != nil {
		return nil, err
	}
	out := f.OutDir()
	for _, v := range all {
		var found []string
		for _, s := range shards {
			if _, err := os.Stat(filepath.Join(s, "variants", v.Name, "run", charis.SummaryFile)); err == nil {
				found = append(found, s)
			}
		}
		if len(found) != 1 {
			return nil, fmt.Errorf("variant %s is scored in %d of the shard folders %v (want exactly 1)", v.Name, len(found), shards)
		}
		src, dst := filepath.Join(found[0], "variants", v.Name), filepath.Join(out, "variants", v.Name)
		if err := copyScored(src, dst, filepath.Join("generated", "manifest.jsonl")); err != nil {
			return nil, err
		}
	}
	// The ground truth the first shard scored, where it has one.
	for _, s := range shards {
		src := filepath.Join(s, GroundTruth)
		if _, err := os.Stat(filepath.Join(src, "run", charis.SummaryFile)); err != nil {
			continue
		}
		if err := copyScored(src, filepath.Join(out, GroundTruth), "manifest.jsonl"); err != nil {
			return nil, err
		}
		break
	}
	tables, err := WriteReport(out, all)
	if err != nil {
		return nil, err
	}
	return &Result{Out: out, Report: filepath.Join(out, "report"), Tables: tables}, nil
}

// copyScored copies a shard's scored run (src/run) and the manifest it scored (src/manifest,
// where there is one, its paths made absolute so that the evidence tables and the contact
// sheet still find the shard's images) into dst.
func copyScored(src, dst, manifest string) error {
	if filepath.Clean(src) == filepath.Clean(dst) {
		return nil
	}
	if err := copyDir(filepath.Join(src, "run"), filepath.Join(dst, "run")); err != nil {
		return err
	}
	from := filepath.Join(src, manifest)
	samples, err := charis.ReadManifest(from)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	abs := func(p string) string { return charis.ResolveAbs(from, p) }
	for i := range samples {
		s := &samples[i]
		s.Reference, s.ReferenceMask, s.Generated, s.GeneratedMask = abs(s.Reference), abs(s.ReferenceMask), abs(s.Generated), abs(s.GeneratedMask)
	}
	to := filepath.Join(dst, manifest)
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return charis.WriteAtomic(to, func(f *os.File) error { return charis.WriteSamples(f, samples) })
}

func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
