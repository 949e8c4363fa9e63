package score

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/metrics"
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
	prompt       string // identifiers removed
	clauses      []string
}

// sampleError is a bad sample: it is recorded with status error and the run goes on.
type sampleError struct{ reason string }

func (e *sampleError) Error() string { return e.reason }

func failf(format string, args ...any) error { return &sampleError{fmt.Sprintf(format, args...)} }

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readFile reads one of a sample's files; field names it in the reason. Only a regular
// file of at most MaxFileBytes is opened: a device (/dev/zero), a FIFO or a socket would
// read without end or block the run for good, so it is the sample's error before any read.
func (sc *scorer) readFile(field, rel string) ([]byte, error) {
	path := charis.Resolve(sc.opt.Manifest, rel)
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, failf("%s: %s: file not found", field, rel)
	case err != nil:
		return nil, failf("%s: %s: %v", field, rel, err)
	case !st.Mode().IsRegular():
		return nil, failf("%s: %s is not a regular file (%s)", field, rel, st.Mode().Type())
	case st.Size() > sc.opt.MaxFileBytes:
		return nil, failf("%s: %s is %d bytes, over the limit of %d (--max-file-mb)", field, rel, st.Size(), sc.opt.MaxFileBytes)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, failf("%s: %s: %v", field, rel, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, sc.opt.MaxFileBytes+1)) // the file may grow after Stat
	if err != nil {
		return nil, failf("%s: %s: %v", field, rel, err)
	}
	if int64(len(data)) > sc.opt.MaxFileBytes {
		return nil, failf("%s: %s grew over the limit of %d bytes while being read", field, rel, sc.opt.MaxFileBytes)
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
		return failf("prompt: not valid UTF-8 text")
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
	opt := imageio.Options{MaxPixels: sc.opt.MaxPixels}
	r, err := imageio.Decode(rData, s.Reference, opt)
	if err != nil {
		return failf("reference: %v", err)
	}
	g, err := imageio.Decode(gData, s.Generated, opt)
	if err != nil {
		return failf("generated: %v", err)
	}
	rm, err := decodeMask("reference_mask", rmData, s.ReferenceMask, r, opt)
	if err != nil {
		return err
	}
	gm, err := decodeMask("generated_mask", gmData, s.GeneratedMask, g, opt)
	if err != nil {
		return err
	}
	p.maskSource = "given"
	if rm == nil || gm == nil {
		p.maskSource = "none"
		if sc.hasSeg {
			p.maskSource = "segmenter"
		}
	}
	if p.rID, err = sc.idPx.Pixels(r); err != nil {
		return failf("reference: %v", err)
	}
	if p.gID, err = sc.idPx.Pixels(g); err != nil {
		return failf("generated: %v", err)
	}
	if p.rClip, err = sc.clipPx.Pixels(r); err != nil {
		return failf("reference: %v", err)
	}
	if p.gClip, err = sc.clipPx.Pixels(g); err != nil {
		return failf("generated: %v", err)
	}
	if rm != nil {
		p.rMask, _ = sc.idPx.Pixels(rm) // same size as r: cannot fail where r did not
	}
	if gm != nil {
		p.gMask, _ = sc.idPx.Pixels(gm)
	}
	p.rFull, p.gFull = r, g
	if p.novelty, err = metrics.Novelty(r, g, sc.opt.Config.TD.SSIMSize); err != nil {
		return failf("novelty: %v", err)
	}
	p.luma = metrics.LumaOf(g)
	p.prompt = metrics.StripIdentifiers(s.Prompt, sc.opt.Config.PA.Identifiers)
	p.clauses = metrics.Clauses(p.prompt)
	return nil
}

// decodeMask decodes a mask (nonzero = subject) as an opaque gray image of the image's
// size; a mask of another size is an error.
func decodeMask(field string, data []byte, path string, img *image.RGBA, opt imageio.Options) (*image.RGBA, error) {
	if data == nil {
		return nil, nil
	}
	m, err := imageio.Decode(data, path, opt)
	if err != nil {
		return nil, failf("%s: %v", field, err)
	}
	if m.Rect.Size() != img.Rect.Size() {
		return nil, failf("%s: %s is %dx%d, its image %dx%d", field, path, m.Rect.Dx(), m.Rect.Dy(), img.Rect.Dx(), img.Rect.Dy())
	}
	return binarize(m), nil
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
