package score

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"slices"
	"strings"
	"sync"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/charis/preprocess"
	"github.com/charisbench/charisbench/metrics"
	"github.com/charisbench/charisbench/metrics/judge"
	"github.com/charisbench/charisbench/metrics/ssim"
)

// prepared is one sample after the CPU stage: files read and hashed, images decoded and
// preprocessed for each encoder, the pixel-only measures taken. rec is set when the sample
// needs no encoder (a cache hit, or an error).
type prepared struct {
	idx          int
	s            charis.Sample
	key          string // sample-cache key
	rec          *record
	cached       bool // rec came from the sample cache
	rHash, gHash string
	rID, gID     *image.RGBA // identity encoder's preprocessed pixels
	rClip, gClip *image.RGBA // CLIP image encoder's
	rMask, gMask *image.RGBA // identity-preprocessed masks; nil: no mask
	rFull, gFull *image.RGBA // decoded images (for the segmenter and IQA), dropped after encoding
	maskSource   string
	novelty      float64
	luma         metrics.Luma
	judgment     *charis.Judgment // score --judge
	prompt       string           // identifiers removed
	clauses      []string
	spread       float64    // metrics.ColourSpread of G's subject, once its mask is known
	mono         *lumaViews // G's subject has no colours to compare (spread below ic.luma_below)
	lumaSet      bool       // setLumaViews ran
}

// lumaViews are the identity encoder's inputs that IC compares where the generated subject
// has no colours to compare: the luma of each preprocessed image, in all three channels,
// and their output rows once encoded.
type lumaViews struct {
	r, g       *image.RGBA
	rRow, gRow []float32
}

// lumaView is Pillow's convert("L") then convert("RGB") of an encoder's preprocessed pixels.
func lumaView(px *image.RGBA) *image.RGBA {
	l := preprocess.Luma(px)
	out := image.NewRGBA(px.Rect)
	for i, j := 0, 0; i < len(out.Pix); i, j = i+4, j+1 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = l.Pix[j], l.Pix[j], l.Pix[j], 255
	}
	return out
}

// sampleError is a bad sample: it is recorded with status error and the run goes on.
type sampleError struct{ reason string }

func (e *sampleError) Error() string { return e.reason }

func failf(format string, args ...any) error { return &sampleError{fmt.Sprintf(format, args...)} }

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readFile reads one of a sample's files (charis.ReadSampleFile); a failure is the
// sample's error.
func (sc *scorer) readFile(field, rel string) ([]byte, error) {
	data, err := charis.ReadSampleFile(sc.opt.Manifest, field, rel, sc.opt.MaxFileBytes)
	if err != nil {
		return nil, &sampleError{err.Error()}
	}
	return data, nil
}

// prepare does everything for one sample that needs no encoder.
func (sc *scorer) prepare(idx int) *prepared {
	p := &prepared{idx: idx, s: sc.samples[idx]}
	if err := sc.prepareInto(p); err != nil {
		var se *sampleError
		if !errors.As(err, &se) {
			se = &sampleError{err.Error()}
		}
		p.rec = errorRecord(p, se.reason)
	}
	return p
}

func (sc *scorer) prepareInto(p *prepared) error {
	s := p.s
	if strings.TrimSpace(s.Prompt) == "" {
		return failf("prompt: empty")
	}
	if !s.ValidText() {
		return failf("prompt: not valid UTF-8 text (or U+FFFD, what invalid bytes become when a manifest is rewritten)")
	}
	rData, err := sc.readFile("reference", s.Reference)
	if err != nil {
		return err
	}
	gData, err := sc.readFile("generated", s.Generated)
	if err != nil {
		return err
	}
	var rmData, gmData []byte
	if s.ReferenceMask != "" {
		if rmData, err = sc.readFile("reference_mask", s.ReferenceMask); err != nil {
			return err
		}
	}
	if s.GeneratedMask != "" {
		if gmData, err = sc.readFile("generated_mask", s.GeneratedMask); err != nil {
			return err
		}
	}
	p.rHash, p.gHash = sha(rData), sha(gData)
	p.key = sc.sampleKey(p, sha(rmData), sha(gmData))
	if rec, ok := sc.cachedRecord(p); ok && !sc.features {
		p.rec, p.cached = rec, true
		return nil
	}
	if j := sc.opt.Judge; j != nil {
		js, err := judge.NewSample(j.KB, &p.s, j.Class, judge.Image{Data: rData, SHA256: p.rHash}, judge.Image{Data: gData, SHA256: p.gHash})
		if err == nil {
			p.judgment, err = judge.Judge(sc.ctx, j.Backend, js)
		}
		if err != nil {
			return failf("judge: %v", err)
		}
	}
	opt := imageio.Options{MaxPixels: sc.opt.MaxPixels}
	ref, err := sc.image("reference", rData, p.rHash, s.Reference, opt, sc.hasSeg && rmData == nil)
	if err != nil {
		return err
	}
	g, err := sc.image("generated", gData, p.gHash, s.Generated, opt, (sc.hasSeg && gmData == nil) || sc.hasIQA)
	if err != nil {
		return err
	}
	if p.rMask, err = sc.mask("reference_mask", rmData, s.ReferenceMask, ref, opt); err != nil {
		return err
	}
	if p.gMask, err = sc.mask("generated_mask", gmData, s.GeneratedMask, g, opt); err != nil {
		return err
	}
	p.maskSource = "given"
	if p.rMask == nil || p.gMask == nil {
		switch {
		case sc.hasSeg:
			p.maskSource = "segmenter"
		case sc.opt.Config.MaskFallback == charis.MaskPatchPCA:
			p.maskSource = charis.MaskPatchPCA // made from the identity tokens (patchMasks)
		default:
			p.maskSource = "none"
		}
	}
	p.rID, p.rClip, p.rFull = ref.id, ref.clip, ref.full
	p.gID, p.gClip, p.gFull = g.id, g.clip, g.full
	if p.novelty, err = metrics.Novelty(ref.gray, g.gray); err != nil {
		return failf("novelty: %v", err)
	}
	p.luma = g.luma
	if !sc.hasSeg { // the masks are final: measure the colour spread here, off the encoders' path
		sc.setLumaViews(p)
	}
	p.prompt = metrics.StripIdentifiers(s.Prompt, sc.opt.Config.PA.Identifiers)
	p.clauses = metrics.Clauses(p.prompt)
	return nil
}

// binarize makes a mask 255 where any channel is nonzero, 0 elsewhere.
func binarize(m *image.RGBA) *image.RGBA {
	out := image.NewRGBA(m.Rect)
	for i := 0; i < len(m.Pix); i += 4 {
		v := uint8(0)
		if m.Pix[i] != 0 || m.Pix[i+1] != 0 || m.Pix[i+2] != 0 {
			v = 255
		}
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = v, v, v, 255
	}
	return out
}

// imgPrep is an image after the CPU stage: what every sample showing it shares. The
// decoded image itself is dropped once these are made, unless full is needed.
type imgPrep struct {
	size       image.Point
	id, clip   *image.RGBA // the encoders' preprocessed pixels
	gray       ssim.Gray   // for TD's novelty
	luma       metrics.Luma
	full       *image.RGBA // the decoded image, kept only where the segmenter or IQA model needs it
	maskPixels *image.RGBA // a mask's identity-preprocessed pixels (for a mask, the only field set)
}

// imageCacheSize bounds the images kept preprocessed (about 0.5 MB each, none camera-sized):
// a manifest lists a subject's samples together, so a subject's reference and an image
// shown in several samples are made once.
const imageCacheSize = 64

// image decodes and preprocesses an image once per run: samples showing the same bytes
// (a subject's reference, above all) share it. An image kept whole (keepFull) is not
// cached, so the cache never holds a camera-sized picture.
func (sc *scorer) image(field string, data []byte, hash, path string, opt imageio.Options, keepFull bool) (*imgPrep, error) {
	if r, ok := sc.images.get(hash); ok && !keepFull {
		return r, nil
	}
	img, err := imageio.Decode(data, path, opt)
	if err != nil {
		return nil, failf("%s: %v", field, err)
	}
	r := &imgPrep{size: img.Rect.Size(), luma: metrics.LumaOf(img)}
	if r.id, err = sc.idPx.Pixels(img); err != nil {
		return nil, failf("%s: %v", field, err)
	}
	if r.clip, err = sc.clipPx.Pixels(img); err != nil {
		return nil, failf("%s: %v", field, err)
	}
	if r.gray, err = metrics.GrayResized(img, sc.opt.Config.TD.SSIMSize); err != nil {
		return nil, failf("%s: %v", field, err)
	}
	if keepFull {
		r.full = img
	} else {
		sc.images.put(hash, r)
	}
	return r, nil
}

// mask decodes a mask (nil data: none) for img and preprocesses it like the image, once per
// run for the same bytes and size.
func (sc *scorer) mask(field string, data []byte, path string, img *imgPrep, opt imageio.Options) (*image.RGBA, error) {
	if data == nil {
		return nil, nil
	}
	key := fmt.Sprintf("mask %s %v", sha(data), img.size)
	if r, ok := sc.images.get(key); ok {
		return r.maskPixels, nil
	}
	m, err := imageio.Decode(data, path, opt)
	if err != nil {
		return nil, failf("%s: %v", field, err)
	}
	if m.Rect.Size() != img.size {
		return nil, failf("%s: %s is %dx%d, its image %dx%d", field, path, m.Rect.Dx(), m.Rect.Dy(), img.size.X, img.size.Y)
	}
	px, err := sc.idPx.Pixels(binarize(m))
	if err != nil {
		return nil, failf("%s: %v", field, err)
	}
	sc.images.put(key, &imgPrep{maskPixels: px})
	return px, nil
}

// lru is a small least-recently-used map, safe for the preparing goroutines.
type lru struct {
	mu    sync.Mutex
	max   int
	order []string // least recently used first
	m     map[string]*imgPrep
}

func (c *lru) get(k string) (*imgPrep, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[k]
	if ok {
		c.touch(k)
	}
	return r, ok
}

func (c *lru) put(k string, r *imgPrep) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*imgPrep{}
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[k] = r
	c.touch(k)
}

// touch moves k to the most recent end.
func (c *lru) touch(k string) {
	c.order = slices.DeleteFunc(c.order, func(x string) bool { return x == k })
	c.order = append(c.order, k)
}
