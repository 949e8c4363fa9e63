// Command ortraw is the ceiling make bench-score compares scoring with: ONNX Runtime alone,
// through onnxruntime_go and nothing of charisbench, running the encoder work of scoring a
// manifest on ready inputs. Each image model runs --images inputs of [N, 3, H, W] float32,
// the text model --texts rows of token ids (--ids, as `charisbench tokenize` writes them),
// in batches of --batch, at --threads intra-op threads, one model after another or, with
// --concurrent, all at once, after one untimed batch through each model. With --streams N,
// N goroutines share the sessions, each running every model over its share of the batches
// (N streams of one thread keep N cores busy without intra-op threading). Session creation
// is timed apart from the work; it prints
//
//	load_s=...  work_s=...  samples_per_s=...
//
// where samples/s is --samples over the work's seconds. It imports onnxruntime_go itself (the
// one place outside metrics/encoder that does) so that the ceiling owes nothing to the code
// it measures.
//
// Usage:
//
//	ortraw --lib libonnxruntime.so.1 --image id.onnx:last_hidden_state --image clip.onnx:image_embeds \
//	    --text text.onnx:text_embeds --ids ids.jsonl --images 90 --texts 60 --samples 60 --threads 2
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	ort "github.com/yalue/onnxruntime_go"
	"golang.org/x/sync/errgroup"
)

type model struct{ path, output string }

type models []model

func (m *models) String() string { return fmt.Sprint(*m) }

func (m *models) Set(v string) error {
	path, out, ok := strings.Cut(v, ":")
	if !ok || path == "" || out == "" {
		return fmt.Errorf("want FILE.onnx:OUTPUT, got %q", v)
	}
	*m = append(*m, model{path, out})
	return nil
}

func main() {
	var images, texts models
	lib := flag.String("lib", "", "libonnxruntime.so.1")
	flag.Var(&images, "image", "an image model, FILE.onnx:OUTPUT (repeatable)")
	flag.Var(&texts, "text", "a text model, FILE.onnx:OUTPUT (repeatable)")
	ids := flag.String("ids", "", "token ids, one JSON array a line (needed with --text)")
	nImages := flag.Int("images", 0, "images per image model")
	nTexts := flag.Int("texts", 0, "prompts per text model")
	samples := flag.Int("samples", 0, "the samples this work scores (for samples/s)")
	batch := flag.Int("batch", 16, "inputs per run")
	threads := flag.Int("threads", 0, "intra-op threads of each model (0: ONNX Runtime's default)")
	concurrent := flag.Bool("concurrent", false, "run the models at once, each on its own thread, instead of one after another")
	spin := flag.Bool("spin", true, "let idle intra-op threads spin (ONNX Runtime's default)")
	streams := flag.Int("streams", 1, "goroutines running batches at once, sharing the sessions")
	flag.Parse()
	if err := run(*lib, images, texts, *ids, *nImages, *nTexts, *samples, *batch, *threads, *concurrent, *spin, *streams); err != nil {
		fmt.Fprintln(os.Stderr, "ortraw:", err)
		os.Exit(2)
	}
}

func run(lib string, images, texts models, idsPath string, nImages, nTexts, samples, batch, threads int, concurrent, spin bool, streams int) error {
	if lib == "" || samples <= 0 || batch <= 0 || len(images)+len(texts) == 0 {
		return errors.New("want --lib, --samples, --batch and at least one --image or --text (see -h)")
	}
	if streams < 1 || (streams > 1 && concurrent) {
		return errors.New("--streams must be 1 or more, and 1 with --concurrent")
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(); err != nil {
		return err
	}
	defer ort.DestroyEnvironment()
	so, err := ort.NewSessionOptions()
	if err != nil {
		return err
	}
	defer so.Destroy()
	if threads > 0 {
		if err := so.SetIntraOpNumThreads(threads); err != nil {
			return err
		}
	}
	if !spin {
		if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			return err
		}
	}
	var rows [][]int64
	if len(texts) > 0 {
		if rows, err = readIDs(idsPath, nTexts); err != nil {
			return err
		}
	}

	type job struct {
		sess  *ort.DynamicAdvancedSession
		n     int
		input func(lo, hi int) (ort.Value, error)
	}
	var jobs []job
	start := time.Now()
	for _, m := range images {
		ins, _, err := ort.GetInputOutputInfo(m.path)
		if err != nil {
			return err
		}
		dims := ins[0].Dimensions
		if len(dims) != 4 || dims[1] <= 0 || dims[2] <= 0 || dims[3] <= 0 {
			return fmt.Errorf("%s: input %s is %v, want [N, C, H, W] with C, H, W fixed", m.path, ins[0].Name, dims)
		}
		plane := int(dims[1] * dims[2] * dims[3])
		px := make([]float32, batch*plane)
		for i := range px {
			px[i] = float32(i%251)/125 - 1
		}
		sess, err := ort.NewDynamicAdvancedSession(m.path, []string{ins[0].Name}, []string{m.output}, so)
		if err != nil {
			return err
		}
		defer sess.Destroy()
		jobs = append(jobs, job{sess, nImages, func(lo, hi int) (ort.Value, error) {
			return ort.NewTensor(ort.NewShape(int64(hi-lo), dims[1], dims[2], dims[3]), px[:(hi-lo)*plane])
		}})
	}
	for _, m := range texts {
		ins, _, err := ort.GetInputOutputInfo(m.path)
		if err != nil {
			return err
		}
		if ins[0].DataType != ort.TensorElementDataTypeInt64 {
			return fmt.Errorf("%s: input %s is %v, want int64 token ids", m.path, ins[0].Name, ins[0].DataType)
		}
		sess, err := ort.NewDynamicAdvancedSession(m.path, []string{ins[0].Name}, []string{m.output}, so)
		if err != nil {
			return err
		}
		defer sess.Destroy()
		ctx := len(rows[0])
		flat := make([]int64, 0, len(rows)*ctx)
		for _, r := range rows {
			flat = append(flat, r...)
		}
		jobs = append(jobs, job{sess, len(rows), func(lo, hi int) (ort.Value, error) {
			return ort.NewTensor(ort.NewShape(int64(hi-lo), int64(ctx)), flat[lo*ctx:hi*ctx])
		}})
	}
	load := time.Since(start)

	runBatch := func(j job, lo int) error {
		in, err := j.input(lo, min(lo+batch, j.n))
		if err != nil {
			return err
		}
		defer in.Destroy()
		out := []ort.Value{nil}
		if err := j.sess.Run([]ort.Value{in}, out); err != nil {
			return err
		}
		return out[0].Destroy()
	}
	for _, j := range jobs { // one full batch each first: ONNX Runtime's first run sets up its buffers
		if err := runBatch(j, 0); err != nil {
			return err
		}
	}
	start = time.Now()
	// stream runs jobs over every streams-th batch from the st-th.
	stream := func(jobs []job, st int) error {
		for _, j := range jobs {
			for lo := st * batch; lo < j.n; lo += streams * batch {
				if err := runBatch(j, lo); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var g errgroup.Group
	if concurrent { // each model on a goroutine of its own
		for _, j := range jobs {
			g.Go(func() error { return stream([]job{j}, 0) })
		}
	} else { // each stream runs the models in turn
		for st := range streams {
			g.Go(func() error { return stream(jobs, st) })
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Printf("load_s=%.3f work_s=%.3f samples_per_s=%.3f\n", load.Seconds(), elapsed.Seconds(), float64(samples)/elapsed.Seconds())
	return nil
}

// readIDs reads n rows of token ids of equal length.
func readIDs(path string, n int) ([][]int64, error) {
	if path == "" || n <= 0 {
		return nil, errors.New("--text needs --ids and --texts")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows [][]int64
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan() && len(rows) < n; line++ {
		var r []int64
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		if len(r) == 0 {
			return nil, fmt.Errorf("%s:%d: no ids", path, line)
		}
		if len(rows) > 0 && len(r) != len(rows[0]) {
			return nil, fmt.Errorf("%s:%d: %d ids, line 1 has %d", path, line, len(r), len(rows[0]))
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(rows) < n {
		return nil, fmt.Errorf("%s: %d rows, want %d (--texts)", path, len(rows), n)
	}
	return rows, nil
}
