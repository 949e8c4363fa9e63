// Package score runs CHARIS over a sample manifest and writes a scored run:
// samples.jsonl (one result per manifest row, in manifest order) and summary.json
// (per-variant means with subject-bootstrap intervals, failures, provenance).
//
// It promises: a bad sample (missing, corrupt or oversize image, empty prompt, mask of the
// wrong size) is recorded with status "error" and a reason, and the run goes on; finished
// samples are appended to DIR/work.jsonl as they complete, so an interrupted run loses no
// finished work and the same command continues where it stopped; decoding runs ahead of
// the encoders in a bounded pipeline, so memory does not grow with the manifest.
package score

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio/libwebp"
	"github.com/charisbench/charisbench/charis/imageio/turbojpeg"
	"github.com/charisbench/charisbench/charis/preprocess"
	"github.com/charisbench/charisbench/charis/readfile"
	"github.com/charisbench/charisbench/metrics"
	"github.com/charisbench/charisbench/metrics/cache"
	"github.com/charisbench/charisbench/metrics/encoder"
	"github.com/charisbench/charisbench/metrics/judge"
)

// DefaultChunk is how many samples move through the pipeline together.
const DefaultChunk = 32

// DefaultMaxFileBytes bounds an image or mask file (camera JPEGs are a few MB; 256 MiB is
// far past any real one and still fits in memory).
const DefaultMaxFileBytes = readfile.MaxImageBytes

// Options configure a scoring run.
type Options struct {
	Manifest     string // sample manifest, .jsonl or .csv
	Models       *charis.ModelManifest
	Config       charis.MetricConfig
	Out          string // run folder
	Runtime      *encoder.Runtime
	Cache        *cache.Cache  // nil: no cache
	Workers      int           // decoding goroutines; 0: GOMAXPROCS
	Chunk        int           // samples per pipeline step; 0: DefaultChunk
	MaxPixels    int           // image size limit; 0: imageio's default
	MaxFileBytes int64         // largest image or mask file read; 0: DefaultMaxFileBytes
	ClassicScale float64       // 1 (raw cosines) or 100
	Restart      bool          // discard a partial run of other inputs in Out
	Shard        *charis.Shard // score this shard of the manifest only (Merge joins shards); nil: all
	Judge        *JudgeOptions // add the identity judge's verdicts and judge IC; nil: none
	Progress     io.Writer     // progress line (a terminal); nil: none
	Log          *slog.Logger
}

// JudgeOptions add the identity judge (docs/judge.md) to a scored run: each sample's
// verdicts beside its axes, judge IC as the axis judge_ic.
type JudgeOptions struct {
	Backend judge.Backend
	KB      *judge.KB
	Class   string // class of rows without one; "": object
}

// scorer holds one run's state.
type scorer struct {
	opt       Options
	ctx       context.Context // the run's: the judge's requests end with it
	samples   []charis.Sample
	runKey    string
	setup     string // setupHash, once
	id        *encoder.Session
	clipImg   *encoder.Session
	clipText  *encoder.Session
	seg, iqa  *encoder.Session // optional
	idPx      preprocess.Spec  // the identity encoder's preprocessing
	clipPx    preprocess.Spec  // the CLIP image encoder's
	hasSeg    bool             // a segmenter makes missing masks
	hasIQA    bool             // an IQA model takes part in VQ
	antonyms  []metrics.Antonym
	encShas   map[string]string
	manifestH string
	features  bool // calibrating: every sample goes through the encoders (no sample cache)
	mu        sync.Mutex
	loaded    []*encoder.Session // every session created, for interrupt and closeEncoders
	stopped   bool               // interrupted
	images    lru                // images and masks decoded and preprocessed, shared by the samples showing them
	start     time.Time          // the run's, for stage timings
}

// stage logs, at debug level (charisbench score --timings), that a stage begun at start
// has ended: when, in seconds since the run began, and how long it took.
func (sc *scorer) stage(name string, start time.Time, args ...any) {
	now := time.Now()
	sc.opt.Log.Debug(name, append([]any{"at_s", round2(now.Sub(sc.start)), "took_s", round2(now.Sub(start))}, args...)...)
}

func round2(d time.Duration) float64 { return math.Round(d.Seconds()*100) / 100 }

// Run scores the manifest into opt.Out and returns the summary. A context cancelled
// (Ctrl-C) stops after the chunk in flight, with its samples saved.
func Run(ctx context.Context, opt Options) (*charis.Summary, error) {
	if opt.Chunk <= 0 {
		opt.Chunk = DefaultChunk
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.ClassicScale == 0 {
		opt.ClassicScale = 1
	}
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = DefaultMaxFileBytes
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	start := time.Now()
	samples, err := charis.ReadManifest(opt.Manifest)
	if err != nil {
		return nil, err
	}
	for i := range samples {
		samples[i].World = nil // ground truth is for builders and validation, not scoring: not kept per sample
	}
	if sh := opt.Shard; sh != nil {
		if sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count {
			return nil, fmt.Errorf("shard %d/%d: want 0 <= i < n", sh.Index, sh.Count)
		}
		var part []charis.Sample
		for _, i := range sh.Select(samples) {
			part = append(part, samples[i])
		}
		if len(part) == 0 {
			return nil, fmt.Errorf("shard %d/%d of %s holds no sample (fewer subjects than shards)", sh.Index, sh.Count, opt.Manifest)
		}
		samples = part
	}
	manifestH, err := readfile.SHA256("sample manifest", opt.Manifest)
	if err != nil {
		return nil, err
	}
	sc := &scorer{opt: opt, ctx: ctx, samples: samples, manifestH: manifestH, encShas: map[string]string{}, images: lru{max: imageCacheSize}, start: start}
	if err := sc.loadEncoders(); err != nil {
		return nil, err
	}
	defer sc.closeEncoders()
	sc.setup = sc.setupHash()
	sc.runKey = sc.computeRunKey()
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, err
	}
	w, done, err := openWork(opt.Out, sc.runKey, opt.Restart, func(r *record) bool {
		if r.Index < 0 || r.Index >= len(samples) || r.ID != samples[r.Index].ID {
			return false
		}
		if r.Status == charis.StatusOK {
			_, err := cache.DecodeFloats(r.Unit)
			return err == nil && r.Axes != nil
		}
		return r.Status == charis.StatusError
	})
	if err != nil {
		return nil, err
	}
	defer w.close()
	var todo []int
	for i := range samples {
		if !done[i] {
			todo = append(todo, i)
		}
	}
	if len(done) > 0 {
		opt.Log.Info("resuming", "done", len(done), "remaining", len(todo))
	}
	if err := sc.pipeline(ctx, todo, w, len(done)); err != nil {
		return nil, err
	}
	t := time.Now()
	sum, err := sc.finish(w)
	sc.stage("finished", t)
	return sum, err
}

// loadEncoders checks the manifest declares what CHARIS needs. Sessions are created on
// first use (sessions), so a run served entirely from the cache never loads a model.
func (sc *scorer) loadEncoders() error {
	m := sc.opt.Models
	for _, r := range []charis.Role{charis.RoleIdentity, charis.RoleCLIPImage, charis.RoleCLIPText} {
		if m.Encoder(r) == nil {
			return fmt.Errorf("%s: CHARIS needs a %s encoder", m.Path(), r)
		}
	}
	for _, r := range charis.Roles {
		if e := m.Encoder(r); e != nil {
			sc.encShas[string(r)] = e.SHA256 // the file's hash is checked when its session loads
		}
	}
	sc.idPx = m.Encoder(charis.RoleIdentity).PixelSpec()
	sc.clipPx = m.Encoder(charis.RoleCLIPImage).PixelSpec()
	sc.hasSeg = m.Encoder(charis.RoleSegmenter) != nil
	sc.hasIQA = m.Encoder(charis.RoleIQA) != nil
	return nil
}

// embedAntonyms embeds VQ's antonym prompts (through the cache: a run served from it loads
// no model).
func (sc *scorer) embedAntonyms() error {
	var texts []string
	for _, a := range sc.opt.Config.VQ.Antonyms {
		texts = append(texts, a[0], a[1])
	}
	vecs, err := sc.texts(texts)
	if err != nil {
		return err
	}
	for i := 0; i < len(vecs); i += 2 {
		sc.antonyms = append(sc.antonyms, metrics.Antonym{Positive: vecs[i], Negative: vecs[i+1]})
	}
	return nil
}

func (sc *scorer) closeEncoders() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, s := range sc.loaded {
		s.Close()
	}
}

// interrupt makes the encoders' batch in flight, and every later one, fail at once.
func (sc *scorer) interrupt() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.stopped = true
	for _, s := range sc.loaded {
		s.Interrupt()
	}
}

// sessions creates the encoder sessions once, as many at a time as there are cores:
// creating one is mostly single-threaded work in ONNX Runtime (reading, optimising and
// prepacking the graph).
func (sc *scorer) sessions() error {
	if sc.id != nil {
		return nil
	}
	m, rt := sc.opt.Models, sc.opt.Runtime
	start := time.Now()
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, x := range []struct {
		role charis.Role
		dst  **encoder.Session
	}{{charis.RoleCLIPImage, &sc.clipImg}, {charis.RoleCLIPText, &sc.clipText}, {charis.RoleIdentity, &sc.id},
		{charis.RoleSegmenter, &sc.seg}, {charis.RoleIQA, &sc.iqa}} {
		if m.Encoder(x.role) == nil {
			continue
		}
		g.Go(func() error {
			s, err := rt.Load(m, x.role)
			if err != nil {
				return err
			}
			sc.mu.Lock()
			sc.loaded = append(sc.loaded, s)
			if sc.stopped {
				s.Interrupt()
			}
			sc.mu.Unlock()
			*x.dst = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		sc.id = nil // a later call must not take the sessions as loaded
		return err
	}
	sc.stage("encoders loaded", start)
	return nil
}

// setupHash covers what every sample's result depends on besides its own inputs: the
// metric config, the encoders with their calibrations and the scoring options. Computed
// once per run.
func (sc *scorer) setupHash() string {
	h := sha256.New()
	fmt.Fprintln(h, sc.opt.Config.SHA256(), sc.opt.ClassicScale, sc.opt.MaxPixels, turbojpeg.Name, libwebp.Name, sc.opt.Runtime.CacheTag())
	if j := sc.opt.Judge; j != nil {
		fmt.Fprintln(h, "judge", j.Backend.Name(), j.Backend.Model(), judge.Protocol, j.KB.Digest(), j.Class)
	}
	for _, r := range charis.Roles {
		fmt.Fprintln(h, r, sc.encShas[string(r)])
		if e := sc.opt.Models.Encoder(r); e != nil && e.Calibration != nil {
			fmt.Fprintln(h, r, "calibration", e.Calibration.Lo, e.Calibration.Hi)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Calibrated axes, as provenance names them.
const (
	calIC       = charis.AxisIC
	calPA       = charis.AxisPA
	calTDSpread = "td_spread"
)

// calibrations returns the calibration each calibrated axis uses (nil: lo = 0, hi = 1).
func (sc *scorer) calibrations() map[string]*charis.Calibration {
	m := sc.opt.Models
	return map[string]*charis.Calibration{
		calIC:       m.Encoder(charis.RoleIdentity).Calibration,
		calPA:       m.Encoder(charis.RoleCLIPText).Calibration,
		calTDSpread: sc.spreadCalibration(),
	}
}

// spreadCalibration is calibrate(spread)'s: the metric config's in version 1, the
// clip_image encoder's fit in version 2 (nil when it has none).
func (sc *scorer) spreadCalibration() *charis.Calibration {
	if sc.opt.Config.Version == charis.MetricV1 {
		return &sc.opt.Config.TD.Calibration
	}
	return sc.opt.Models.Encoder(charis.RoleCLIPImage).Calibration
}

// computeRunKey identifies everything a finished sample depends on besides its files.
func (sc *scorer) computeRunKey() string {
	shard := ""
	if sh := sc.opt.Shard; sh != nil {
		shard = fmt.Sprintf(" shard %d/%d", sh.Index, sh.Count)
	}
	return sha([]byte("charisbench-run-v1 " + sc.manifestH + " " + sc.setup + shard))
}

// sampleKey identifies one sample's inputs for the sample cache (ids excluded: identical
// inputs under another id reuse the result).
func (sc *scorer) sampleKey(p *prepared, rmHash, gmHash string) string {
	h := sha256.New()
	fmt.Fprintln(h, "charisbench-sample-v1", p.rHash, p.gHash, rmHash, gmHash, p.s.Prompt, sc.setup)
	return hex.EncodeToString(h.Sum(nil))
}

// pipeline runs three stages at once, each a chunk ahead of the next: preparing (decode,
// preprocess, pixel measures) on worker goroutines, the encoders, and the axes with the
// work log on this goroutine. Memory is bounded by the chunks in flight. A cancelled ctx
// interrupts the encoders mid-batch; the chunks already written are kept.
func (sc *scorer) pipeline(ctx context.Context, todo []int, w *work, already int) error {
	var wg sync.WaitGroup
	defer wg.Wait() // no stage outlives the run (its sessions are closed after it)
	stop := make(chan struct{})
	defer close(stop)
	defer context.AfterFunc(ctx, sc.interrupt)()

	chunks := make(chan []*prepared, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(chunks)
		for start := 0; start < len(todo); start += sc.opt.Chunk {
			t := time.Now()
			batch := sc.prepareChunk(ctx, todo[start:min(start+sc.opt.Chunk, len(todo))])
			if batch == nil {
				return
			}
			sc.stage("chunk prepared", t, "samples", len(batch))
			select {
			case chunks <- batch:
			case <-stop:
				return
			}
		}
	}()

	type encoded struct {
		batch []*prepared
		enc   *encodings
		err   error
	}
	encs := make(chan encoded, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(encs)
		send := func(x encoded) bool {
			select {
			case encs <- x:
				return x.err == nil
			case <-stop:
				return false
			}
		}
		if err := sc.embedAntonyms(); err != nil { // loads the models while the first chunk is prepared
			send(encoded{err: err})
			return
		}
		for batch := range chunks {
			e, err := sc.encode(batch)
			if !send(encoded{batch, e, err}) {
				return
			}
		}
	}()

	start, done := time.Now(), already
	interrupted := func(err error) error {
		sc.endProgress()
		return fmt.Errorf("interrupted after %d of %d samples (saved in %s; run the same command to continue): %w",
			done, len(sc.samples), sc.opt.Out, err)
	}
	for x := range encs {
		if x.err != nil {
			if err := ctx.Err(); err != nil {
				return interrupted(err)
			}
			return x.err
		}
		t := time.Now()
		recs := sc.score(x.batch, x.enc)
		sc.stage("chunk scored", t, "samples", len(x.batch))
		if err := w.append(recs); err != nil {
			return err
		}
		for i, p := range x.batch {
			if sc.opt.Cache != nil && !p.cached && p.key != "" && recs[i].Status == charis.StatusOK {
				sc.storeRecord(p.key, recs[i])
			}
		}
		done += len(x.batch)
		sc.progress(done, len(sc.samples), done-already, start)
		if err := ctx.Err(); err != nil {
			return interrupted(err)
		}
	}
	if err := ctx.Err(); err != nil {
		return interrupted(err)
	}
	sc.endProgress()
	return nil
}

// prepareChunk prepares samples idx on the worker goroutines; nil when ctx is cancelled
// first.
func (sc *scorer) prepareChunk(ctx context.Context, idx []int) []*prepared {
	batch := make([]*prepared, len(idx))
	var g errgroup.Group
	g.SetLimit(sc.opt.Workers)
	for i, j := range idx {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			batch[i] = sc.prepare(j)
			return nil // a sample's failure is its record
		})
	}
	g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return batch
}

func (sc *scorer) progress(done, total, fresh int, start time.Time) {
	if sc.opt.Progress == nil {
		return
	}
	rate := float64(fresh) / max(time.Since(start).Seconds(), 1e-9)
	eta := ""
	if rate > 0 && done < total {
		eta = fmt.Sprintf(", ETA %s", (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second))
	}
	width := 30
	bar := strings.Repeat("#", width*done/max(total, 1)) + strings.Repeat(".", width-width*done/max(total, 1))
	fmt.Fprintf(sc.opt.Progress, "\rscoring [%s] %d/%d samples, %.1f/s%s   ", bar, done, total, rate, eta)
}

func (sc *scorer) endProgress() {
	if sc.opt.Progress != nil {
		fmt.Fprintln(sc.opt.Progress)
	}
}
