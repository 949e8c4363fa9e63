package encoder

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/clip"
	"github.com/charisbench/charisbench/charis/preprocess"
)

// Tensor is a batch of encoder outputs: Shape[0] rows, row-major float32.
type Tensor struct {
	Shape []int
	Data  []float32
}

// RowSize is the number of values per batch row.
func (t *Tensor) RowSize() int {
	n := 1
	for _, d := range t.Shape[1:] {
		n *= d
	}
	return n
}

// Row returns row i (no copy).
func (t *Tensor) Row(i int) []float32 {
	n := t.RowSize()
	return t.Data[i*n : (i+1)*n]
}

// Session is one loaded encoder. It is safe for concurrent use.
type Session struct {
	rt       *Runtime
	manifest *charis.ModelManifest
	spec     *charis.EncoderSpec
	sha256   string
	in, out  ort.InputOutputInfo
	eng      engine
	stopped  atomic.Bool
	// outputChecked: an output's shape was checked against the role (sizes the file
	// leaves to shape inference are known only then).
	outputChecked atomic.Bool
	pixels        preprocess.Spec // image encoders
	tok           *clip.Tokenizer // text encoders
}

// Load creates the session of the manifest's encoder for role, after checking the file's
// sha256 and that the model's inputs and outputs fit the role.
func (rt *Runtime) Load(m *charis.ModelManifest, role charis.Role) (*Session, error) {
	spec := m.Encoder(role)
	if spec == nil {
		return nil, fmt.Errorf("%s: no %s encoder declared", m.Path(), role)
	}
	// The graph's inputs and outputs are read while the file is hashed, in one pass; GoMLX
	// also keeps the bytes it converts.
	var ins, outs []ort.InputOutputInfo
	var data []byte
	path, err := m.CheckModel(spec, func(r io.Reader) (err error) {
		if rt.backend != nil {
			if data, err = io.ReadAll(r); err != nil {
				return err
			}
			r = bytes.NewReader(data)
		}
		ins, outs, err = graphIO(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &Session{rt: rt, manifest: m, spec: spec, sha256: spec.SHA256} // CheckModel checked it
	if s.in, err = pick(m, spec, "input", spec.Input, ins); err != nil {
		return nil, err
	}
	if s.out, err = pick(m, spec, "output.name", spec.Output.Name, outs); err != nil {
		return nil, err
	}
	if err := s.checkSignature(); err != nil {
		return nil, err
	}
	if role == charis.RoleCLIPText {
		if s.tok, err = m.Tokenizer(spec); err != nil {
			return nil, err
		}
	} else {
		s.pixels = spec.PixelSpec()
	}
	if rt.backend != nil {
		s.eng, err = rt.loadGoMLX(data, s.in.Name, s.out.Name)
	} else {
		s.eng, err = rt.loadORT(path, s.in.Name, s.out.Name)
	}
	if err != nil {
		return nil, m.Errorf(spec, "path", "creating a %s session for %s: %v", rt.opt.Engine, m.ModelPath(spec), err)
	}
	// GoMLX converts the graph on the first batch: one blank batch at load turns an op it
	// cannot convert into an error naming the file, before any work.
	if s.undeclared() || rt.backend != nil {
		if err := s.dryRun(); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// ErrInterrupted is what encoding returns once the session is interrupted.
var ErrInterrupted = errors.New("encoding interrupted")

// Interrupt makes the batch running now, and every later one, fail quickly with
// ErrInterrupted: a run cancelled mid-batch does not wait for the batch to finish. Safe to
// call from any goroutine, more than once.
func (s *Session) Interrupt() {
	if !s.stopped.Swap(true) {
		s.eng.terminate()
	}
}

// pick selects an input or output by name, or the first when name is empty (inputs must
// then be unique).
func pick(m *charis.ModelManifest, spec *charis.EncoderSpec, field, name string, infos []ort.InputOutputInfo) (ort.InputOutputInfo, error) {
	if name == "" {
		if field == "input" && len(infos) != 1 {
			return ort.InputOutputInfo{}, m.Errorf(spec, field, "the model has %d inputs (%s): name the one to feed", len(infos), names(infos))
		}
		return infos[0], nil
	}
	for _, io := range infos {
		if io.Name == name {
			return io, nil
		}
	}
	return ort.InputOutputInfo{}, m.Errorf(spec, field, "the model has no %q (it has %s)", name, names(infos))
}

func names(infos []ort.InputOutputInfo) string {
	s := ""
	for i, io := range infos {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %v", io.Name, io.Dimensions)
	}
	return s
}

func headsWidth(hs []charis.AttributeHead) int {
	n := 0
	for _, h := range hs {
		n += h.Width()
	}
	return n
}

// checkSignature compares the model's declared input and output with what the role needs.
// Dimensions of -1 (dynamic) match anything.
func (s *Session) checkSignature() error {
	m, e := s.manifest, s.spec
	in, out := s.in.Dimensions, s.out.Dimensions
	fits := func(dim int64, want int) bool { return dim < 0 || dim == int64(want) }
	if e.Role == charis.RoleCLIPText {
		dt := s.in.DataType
		if dt != ort.TensorElementDataTypeInt64 && dt != ort.TensorElementDataTypeInt32 {
			return m.Errorf(e, "input", "%s is %v; a text encoder takes int64 or int32 token ids", s.in.Name, dt)
		}
		if len(in) != 2 || !fits(in[1], e.Text.ContextLength) {
			return m.Errorf(e, "text.context_length", "input %s has shape %v; want [N, %d]", s.in.Name, in, e.Text.ContextLength)
		}
	} else {
		if s.in.DataType != ort.TensorElementDataTypeFloat {
			return m.Errorf(e, "input", "%s is %v; an image encoder takes float32 pixels", s.in.Name, s.in.DataType)
		}
		side := fixedSide(e.PixelSpec())
		if len(in) != 4 || !fits(in[1], 3) {
			return m.Errorf(e, "input", "%s has shape %v; want [N, 3, H, W]", s.in.Name, in)
		}
		if side > 0 && (!fits(in[2], side) || !fits(in[3], side)) {
			return m.Errorf(e, "preprocess", "preprocessing gives %dx%d images but input %s has shape %v", side, side, s.in.Name, in)
		}
		if side == 0 && (in[2] > 0 || in[3] > 0) {
			return m.Errorf(e, "preprocess.crop", "input %s has fixed shape %v, but without a crop image sizes vary: set crop", s.in.Name, in)
		}
	}
	if s.out.DataType != ort.TensorElementDataTypeFloat {
		return m.Errorf(e, "output.name", "%s is %v; want float32", s.out.Name, s.out.DataType)
	}
	if out == nil { // rank not declared in the file: the first output's is checked
		return nil
	}
	return s.checkOutput(out)
}

// undeclared is whether the file leaves the output's rank or a size past the batch to
// shape inference.
func (s *Session) undeclared() bool {
	return s.out.Dimensions == nil || slices.Contains(s.out.Dimensions[min(1, len(s.out.Dimensions)):], -1)
}

// dryRun encodes one blank input of the size preprocessing gives (an empty text), so that
// an output shape only inference knows is checked at load; an image encoder without a
// crop takes sizes that vary, and its first output is checked instead.
func (s *Session) dryRun() error {
	if s.tok != nil {
		_, err := s.EncodeTexts([]string{""})
		return err
	}
	if side := fixedSide(s.pixels); side > 0 {
		_, err := s.EncodePixels([]*image.RGBA{image.NewRGBA(image.Rect(0, 0, side, side))})
		return err
	}
	return nil
}

// fixedSide is the side of the square images preprocessing gives, 0 when their size
// follows the input's (no crop, short-side resize).
func fixedSide(p preprocess.Spec) int {
	if p.Crop == 0 && p.Mode == preprocess.SquareMode {
		return p.Resize
	}
	return p.Crop
}

// checkOutput checks an output shape (declared, or of an output) against the role.
func (s *Session) checkOutput(out []int64) error {
	m, e := s.manifest, s.spec
	fits := func(dim int64, want int) bool { return dim < 0 || dim == int64(want) }
	want := map[charis.Role]string{
		charis.RoleIdentity:  "[N, tokens, D]",
		charis.RoleCLIPImage: "[N, E]",
		charis.RoleCLIPText:  "[N, E]",
		charis.RoleSegmenter: "[N, 1, H, W] or [N, H, W]",
		charis.RoleIQA:       "[N] or [N, 1]",
		charis.RoleAttrs:     fmt.Sprintf("[N, %d] (the width of its heads)", headsWidth(e.Heads)),
	}[e.Role]
	ok := map[charis.Role]bool{
		charis.RoleIdentity:  len(out) == 3,
		charis.RoleCLIPImage: len(out) == 2,
		charis.RoleCLIPText:  len(out) == 2,
		charis.RoleSegmenter: len(out) == 3 || (len(out) == 4 && fits(out[1], 1)),
		charis.RoleIQA:       len(out) == 1 || (len(out) == 2 && fits(out[1], 1)),
		charis.RoleAttrs:     len(out) == 2 && fits(out[1], headsWidth(e.Heads)),
	}[e.Role]
	if !ok {
		return m.Errorf(e, "output.name", "%s has shape %v; a %s encoder gives %s", s.out.Name, out, e.Role, want)
	}
	if e.Role == charis.RoleIdentity && out[1] > 0 {
		return s.checkTokens(int(out[1]))
	}
	return nil
}

// checkTokens checks that tokens minus CLS and registers leave a square patch grid.
func (s *Session) checkTokens(tokens int) error {
	p := tokens - s.spec.Output.PrefixTokens()
	g := int(math.Round(math.Sqrt(float64(p))))
	if p <= 0 || g*g != p {
		return s.manifest.Errorf(s.spec, "output.register_tokens",
			"%d tokens less %d prefix tokens (CLS + registers) leave %d patches, not a square grid", tokens, s.spec.Output.PrefixTokens(), p)
	}
	return nil
}

// Close releases the session.
func (s *Session) Close() error { return s.eng.close() }

// Spec is the manifest entry this session runs.
func (s *Session) Spec() *charis.EncoderSpec { return s.spec }

// SHA256 is the hash of the model file, for provenance.
func (s *Session) SHA256() string { return s.sha256 }

// CacheKey is what this session's outputs are cached under besides their input: the model
// file's hash, and the engine where it is not ONNX Runtime (Runtime.CacheTag).
func (s *Session) CacheKey() string { return s.rt.CacheKey(s.sha256) }

// InputInfo and OutputInfo describe the model's tensors as ONNX Runtime reads them.
func (s *Session) InputInfo() (name string, dims []int64) { return s.in.Name, s.in.Dimensions }

// OutputInfo describes the selected output.
func (s *Session) OutputInfo() (name string, dims []int64) { return s.out.Name, s.out.Dimensions }

// Pixels is the image preprocessing of an image encoder.
func (s *Session) Pixels() preprocess.Spec { return s.pixels }

// EncodeImages preprocesses images (in parallel) and runs them through the encoder in
// batches. Output row i belongs to imgs[i].
func (s *Session) EncodeImages(imgs []*image.RGBA) (*Tensor, error) {
	if s.tok != nil {
		return nil, fmt.Errorf("%s: %w: a text encoder takes prompts, not images", s.spec.Name, ErrRole)
	}
	pxs := make([]*image.RGBA, len(imgs))
	err := parallel(len(imgs), func(i int) error {
		var err error
		pxs[i], err = s.pixels.Pixels(imgs[i])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.spec.Name, err)
	}
	return s.EncodePixels(pxs)
}

// EncodePixels runs images already preprocessed by Pixels() (resized and cropped, not
// normalised) through the encoder in batches. Output row i belongs to pxs[i].
func (s *Session) EncodePixels(pxs []*image.RGBA) (*Tensor, error) {
	if s.tok != nil {
		return nil, fmt.Errorf("%s: %w: a text encoder takes prompts, not images", s.spec.Name, ErrRole)
	}
	var out *Tensor
	for start := 0; start < len(pxs); start += s.rt.opt.BatchSize {
		input, err := s.pixelBatch(pxs[start:min(start+s.rt.opt.BatchSize, len(pxs))])
		if err != nil {
			return nil, err
		}
		if out, err = s.run(input, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pixelBatch normalises a batch of equal-sized preprocessed images into [N, 3, H, W].
func (s *Session) pixelBatch(pxs []*image.RGBA) (*batch, error) {
	w, h := pxs[0].Rect.Dx(), pxs[0].Rect.Dy()
	for i, px := range pxs[1:] {
		if px.Rect.Dx() != w || px.Rect.Dy() != h {
			return nil, fmt.Errorf("%s: image %d preprocesses to %dx%d, image 0 to %dx%d; without a crop a batch needs equal sizes",
				s.spec.Name, i+1, px.Rect.Dx(), px.Rect.Dy(), w, h)
		}
	}
	plane := 3 * w * h
	data := make([]float32, len(pxs)*plane)
	err := parallel(len(pxs), func(i int) error { return s.pixels.Normalize(pxs[i], data[i*plane:(i+1)*plane]) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.spec.Name, err)
	}
	return &batch{shape: []int64{int64(len(pxs)), 3, int64(h), int64(w)}, f32: data}, nil
}

// parallel runs f(0..n-1) on up to GOMAXPROCS goroutines and returns the first error.
func parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// EncodeTexts tokenizes prompts and runs them through a text encoder in batches.
func (s *Session) EncodeTexts(texts []string) (*Tensor, error) {
	if s.tok == nil {
		return nil, fmt.Errorf("%s: %w: an image encoder takes images, not prompts", s.spec.Name, ErrRole)
	}
	ctx := s.spec.Text.ContextLength
	var out *Tensor
	for start := 0; start < len(texts); start += s.rt.opt.BatchSize {
		chunk := texts[start:min(start+s.rt.opt.BatchSize, len(texts))]
		input := &batch{shape: []int64{int64(len(chunk)), int64(ctx)}}
		if s.in.DataType == ort.TensorElementDataTypeInt32 {
			input.i32 = make([]int32, 0, len(chunk)*ctx)
			for _, t := range chunk {
				for _, id := range s.tok.Tokenize(t, ctx) {
					input.i32 = append(input.i32, int32(id))
				}
			}
		} else {
			input.i64 = make([]int64, 0, len(chunk)*ctx)
			for _, t := range chunk {
				input.i64 = append(input.i64, s.tok.Tokenize(t, ctx)...)
			}
		}
		var err error
		if out, err = s.run(input, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// run feeds one batch and appends the output rows to acc.
func (s *Session) run(input *batch, acc *Tensor) (*Tensor, error) {
	if s.stopped.Load() {
		return nil, ErrInterrupted
	}
	var before []float32 // the rows of the batches before, which the engine appends to
	if acc != nil {
		before = acc.Data
	}
	dims, data, err := s.eng.run(input, before)
	if err != nil {
		if s.stopped.Load() {
			return nil, ErrInterrupted
		}
		return nil, fmt.Errorf("%s: output %s: %w", s.spec.Name, s.out.Name, err)
	}
	if !s.outputChecked.Load() {
		if err := s.checkOutput(dims); err != nil {
			return nil, err
		}
		s.outputChecked.Store(true)
	}
	shape := make([]int, len(dims))
	for i, d := range dims {
		shape[i] = int(d)
	}
	if s.spec.Role == charis.RoleIdentity {
		if err := s.checkTokens(shape[1]); err != nil {
			return nil, err
		}
	}
	for _, v := range data[len(before):] {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%s: output %s holds %v", s.spec.Name, s.out.Name, v)
		}
	}
	if acc == nil {
		return &Tensor{Shape: shape, Data: data}, nil
	}
	acc.Shape[0] += shape[0]
	acc.Data = data
	return acc, nil
}

// Tokens splits row i of an identity encoder's output into the CLS token (nil when the
// model has none) and the patch tokens [grid·grid, D], registers dropped.
func (s *Session) Tokens(t *Tensor, i int) (cls []float32, patches []float32, grid int) {
	d := t.Shape[2]
	row := t.Row(i)
	o := s.spec.Output
	if o.HasCLS() {
		cls = row[:d]
	}
	patches = row[o.PrefixTokens()*d:]
	grid = int(math.Round(math.Sqrt(float64(len(patches) / d))))
	return cls, patches, grid
}
