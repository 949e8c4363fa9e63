package score

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"runtime"
	"time"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/colour"
	"github.com/charisbench/charisbench/metrics"
	"github.com/charisbench/charisbench/metrics/cache"
	"github.com/charisbench/charisbench/metrics/encoder"
	"golang.org/x/sync/errgroup"
)

// record is a sample after the encoders: every axis but TD, which needs the other
// generations of its subject and variant (Unit: G's unit embedding for TD's spread, the
// identity encoder's global token in version 1, the CLIP image embedding in version 2). Records are what work.jsonl and the sample
// cache hold.
type record struct {
	Index      int                         `json:"index"`
	ID         string                      `json:"id"`
	Subject    string                      `json:"subject"`
	Variant    string                      `json:"variant"`
	Status     string                      `json:"status"`
	Reason     string                      `json:"reason,omitempty"`
	MaskSource string                      `json:"mask_source,omitempty"`
	Axes       map[string]charis.AxisValue `json:"axes,omitempty"`
	Novelty    float64                     `json:"novelty"`
	Unit       []byte                      `json:"unit,omitempty"` // G's unit embedding for TD's spread, packed float32
	Classic    *charis.Classic             `json:"classic,omitempty"`
	Judge      *charis.Judgment            `json:"judge,omitempty"`
}

func errorRecord(p *prepared, reason string) *record {
	return &record{Index: p.idx, ID: p.s.ID, Subject: p.s.Subject, Variant: p.s.Variant, Status: charis.StatusError, Reason: reason}
}

const (
	kindEmbedding = "embedding-v1"
	kindSample    = "sample-v1"
)

func (sc *scorer) cachedRecord(p *prepared) (*record, bool) {
	if sc.opt.Cache == nil {
		return nil, false
	}
	b, ok, err := sc.opt.Cache.Get(kindSample, p.key)
	if err != nil || !ok {
		return nil, false
	}
	var r record
	if json.Unmarshal(b, &r) != nil {
		return nil, false
	}
	r.Index, r.ID, r.Subject, r.Variant = p.idx, p.s.ID, p.s.Subject, p.s.Variant
	return &r, true
}

func (sc *scorer) storeRecord(key string, r *record) {
	if b, err := json.Marshal(r); err == nil {
		if err := sc.opt.Cache.Put(kindSample, key, b); err != nil {
			sc.opt.Log.Warn("cache write failed", "err", err)
		}
	}
}

// rows encodes images with one session, through the embedding cache: the key is (image
// bytes sha256, encoder sha256, preprocessing id). It returns each image's output row and
// the row's shape (without the batch axis).
func (sc *scorer) rows(s *encoder.Session, hashes []string, pxs []*image.RGBA) ([][]float32, []int, error) {
	out := make([][]float32, len(hashes))
	var shape []int
	keyOf := func(h string) string { return h + "|" + s.CacheKey() + "|" + s.Pixels().ID() }
	var missIdx []int
	var missPx []*image.RGBA
	seen := map[string]int{} // first position of each hash among the misses
	for i, h := range hashes {
		if sc.opt.Cache != nil {
			if b, ok, _ := sc.opt.Cache.Get(kindEmbedding, keyOf(h)); ok {
				if row, sh, err := decodeRow(b); err == nil {
					out[i], shape = row, sh
					continue
				}
			}
		}
		if _, dup := seen[h]; !dup {
			seen[h] = len(missPx)
			missPx = append(missPx, pxs[i])
		}
		missIdx = append(missIdx, i)
	}
	if len(missPx) > 0 {
		start := time.Now()
		t, err := s.EncodePixels(missPx)
		if err != nil {
			return nil, nil, err
		}
		sc.stage("encoder ran", start, "role", s.Spec().Role, "images", len(missPx))
		shape = t.Shape[1:]
		for h, j := range seen {
			if sc.opt.Cache != nil {
				if err := sc.opt.Cache.Put(kindEmbedding, keyOf(h), encodeRow(t.Row(j), shape)); err != nil {
					sc.opt.Log.Warn("cache write failed", "err", err)
				}
			}
		}
		for _, i := range missIdx {
			out[i] = t.Row(seen[hashes[i]])
		}
	}
	return out, shape, nil
}

// encodeRow stores a row with its shape: the number of dims, each dim, then the floats.
func encodeRow(row []float32, shape []int) []byte {
	head := make([]byte, 4*(1+len(shape)))
	binary.LittleEndian.PutUint32(head, uint32(len(shape)))
	for i, d := range shape {
		binary.LittleEndian.PutUint32(head[4*(i+1):], uint32(d))
	}
	return append(head, cache.EncodeFloats(row)...)
}

func decodeRow(b []byte) ([]float32, []int, error) {
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("short row")
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n > 8 || len(b) < 4*(1+n) {
		return nil, nil, fmt.Errorf("bad row header")
	}
	shape := make([]int, n)
	for i := range shape {
		shape[i] = int(binary.LittleEndian.Uint32(b[4*(i+1):]))
	}
	row, err := cache.DecodeFloats(b[4*(1+n):])
	return row, shape, err
}

// texts embeds prompts with the CLIP text encoder, through the cache. Each distinct text is
// looked up and encoded once (a one-clause prompt is also its own clause; prompts repeat
// across variants).
func (sc *scorer) texts(texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	key := func(t string) string {
		return sha([]byte(t)) + "|" + sc.opt.Runtime.CacheKey(sc.encShas[string(charis.RoleCLIPText)]) + "|text"
	}
	vecs := map[string][]float32{}
	var miss []string
	for _, t := range texts {
		if _, seen := vecs[t]; seen {
			continue
		}
		vecs[t] = nil
		if sc.opt.Cache != nil {
			if b, ok, _ := sc.opt.Cache.Get(kindEmbedding, key(t)); ok {
				if v, err := cache.DecodeFloats(b); err == nil {
					vecs[t] = v
					continue
				}
			}
		}
		miss = append(miss, t)
	}
	if len(miss) > 0 {
		if err := sc.sessions(); err != nil {
			return nil, err
		}
		start := time.Now()
		enc, err := sc.clipText.EncodeTexts(miss)
		if err != nil {
			return nil, err
		}
		sc.stage("encoder ran", start, "role", charis.RoleCLIPText, "texts", len(miss))
		for j, t := range miss {
			vecs[t] = enc.Row(j)
			if sc.opt.Cache != nil {
				if err := sc.opt.Cache.Put(kindEmbedding, key(t), cache.EncodeFloats(vecs[t])); err != nil {
					sc.opt.Log.Warn("cache write failed", "err", err)
				}
			}
		}
	}
	for i, t := range texts {
		out[i] = vecs[t]
	}
	return out, nil
}

// encodings is a chunk's encoder outputs, what its axes are computed from.
type encodings struct {
	live             []*prepared // the chunk's samples without a record yet
	idRows, clipRows [][]float32 // two rows per live sample: R, then G
	idShape          []int
	texts            [][]float32 // per live sample: its prompt, then its clauses
	iqa              []float64   // per live sample; nil without an IQA model
}

// encode runs the encoders over a chunk's live samples.
func (sc *scorer) encode(batch []*prepared) (*encodings, error) {
	e := &encodings{}
	for _, p := range batch {
		if p.rec == nil {
			e.live = append(e.live, p)
		}
	}
	if len(e.live) == 0 {
		return e, nil
	}
	if err := sc.sessions(); err != nil {
		return nil, err
	}
	var hashes, texts []string
	var idPx, clipPx []*image.RGBA
	for _, p := range e.live {
		hashes = append(hashes, p.rHash, p.gHash)
		idPx = append(idPx, p.rID, p.gID)
		clipPx = append(clipPx, p.rClip, p.gClip)
		texts = append(texts, p.prompt)
		texts = append(texts, p.clauses...)
	}
	var err error
	if e.idRows, e.idShape, err = sc.rows(sc.id, hashes, idPx); err != nil {
		return nil, err
	}
	if e.clipRows, _, err = sc.rows(sc.clipImg, hashes, clipPx); err != nil {
		return nil, err
	}
	if e.texts, err = sc.texts(texts); err != nil {
		return nil, err
	}
	if sc.seg != nil {
		if err := sc.segment(e.live); err != nil {
			return nil, err
		}
	}
	if err := sc.encodeLuma(e.live); err != nil {
		return nil, err
	}
	if sc.iqa != nil {
		gs := make([]*image.RGBA, len(e.live))
		for i, p := range e.live {
			gs[i] = p.gFull
		}
		t, err := sc.iqa.EncodeImages(gs)
		if err != nil {
			return nil, err
		}
		cal := sc.iqa.Spec().Calibration
		for i := range e.live {
			e.iqa = append(e.iqa, cal.Calibrate(float64(t.Row(i)[0])))
		}
	}
	for _, p := range e.live {
		p.rFull, p.gFull, p.rClip, p.gClip = nil, nil, nil, nil // what the axes do not read
	}
	return e, nil
}

// lumaKey is the embedding cache's image key of an image's luma view.
func lumaKey(hash string) string { return hash + "|luma" }

// encodeLuma measures the colour spread of each sample's generated subject where preparing
// could not (the segmenter's mask is known only now) and runs the identity encoder over the
// luma views of those below ic.luma_below.
func (sc *scorer) encodeLuma(live []*prepared) error {
	var hashes []string
	var px []*image.RGBA
	var mono []*lumaViews
	for _, p := range live {
		if !sc.setLumaViews(p) {
			continue
		}
		hashes = append(hashes, lumaKey(p.rHash), lumaKey(p.gHash))
		px = append(px, p.mono.r, p.mono.g)
		mono = append(mono, p.mono)
	}
	if len(mono) == 0 {
		return nil
	}
	rows, _, err := sc.rows(sc.id, hashes, px)
	if err != nil {
		return err
	}
	for i, m := range mono {
		m.rRow, m.gRow = rows[2*i], rows[2*i+1]
	}
	return nil
}

// setLumaViews sets a sample's colour spread and, where it is below ic.luma_below, its luma
// views; it reports whether IC compares them. A patch_pca mask, made later from the
// tokens, is not known yet: without a given or segmented mask the whole image counts.
// Measured once: preparing does it where no segmenter will make a mask later.
func (sc *scorer) setLumaViews(p *prepared) bool {
	if p.lumaSet {
		return p.mono != nil && p.mono.g != nil // calibrating adds a reference-only view where IC does not compare
	}
	p.lumaSet = true
	below := sc.opt.Config.IC.LumaBelow
	if below <= 0 {
		return false
	}
	cols, _ := subjectColours(p.gID, p.gMask, 1)
	if p.spread = metrics.ColourSpread(cols); p.spread >= below {
		return false
	}
	p.mono = &lumaViews{r: lumaView(p.rID), g: lumaView(p.gID)}
	return true
}

// score computes the axes of a chunk's live samples from their encodings, one sample per
// core at a time (the last chunk's are all that is left to do once the encoders finish),
// and returns the chunk's records, in order.
func (sc *scorer) score(batch []*prepared, e *encodings) []*record {
	first := make([]int, len(e.live)) // where each sample's prompt is in e.texts
	for i, ti := 0, 0; i < len(e.live); i++ {
		first[i] = ti
		ti += 1 + len(e.live[i].clauses)
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, p := range e.live {
		g.Go(func() error {
			sc.scoreOne(p, e, i, first[i])
			return nil
		})
	}
	g.Wait()
	recs := make([]*record, len(batch))
	for i, p := range batch {
		recs[i] = p.rec
		p.rID, p.gID, p.rMask, p.gMask, p.mono = nil, nil, nil, nil, nil // free pixels
	}
	return recs
}

// scoreOne sets the record of live sample i, whose prompt is e.texts[ti], its clauses
// after it.
func (sc *scorer) scoreOne(p *prepared, e *encodings, i, ti int) {
	if p.maskSource == charis.MaskPatchPCA {
		sc.patchMasks(p, e.idRows[2*i], e.idRows[2*i+1], e.idShape)
	}
	rTok, rCol := sc.tokensAndColours(e.idRows[2*i], e.idShape, p.rID, p.rMask)
	gTok, gCol := sc.tokensAndColours(e.idRows[2*i+1], e.idShape, p.gID, p.gMask)
	promptVec := e.texts[ti]
	clauseVecs := e.texts[ti+1 : ti+1+len(p.clauses)]
	cfg := &sc.opt.Config
	var q *float64
	if e.iqa != nil {
		q = &e.iqa[i]
	}
	gImg := e.clipRows[2*i+1]
	axes := map[string]charis.AxisValue{
		charis.AxisIC: sc.ic(p, rTok, gTok, e.idShape),
		charis.AxisPA: metrics.PA(gImg, promptVec, p.clauses, clauseVecs, sc.clipText.Spec().Calibration),
		charis.AxisCF: sc.cf(p, rTok, gTok, rCol, gCol),
		charis.AxisVQ: metrics.VQ(gImg, sc.antonyms, cfg.VQ.Scale, q, p.luma, cfg.VQ),
	}
	spreadVec := globalToken(gTok) // version 1: TD's spread on the identity encoder
	if cfg.Version >= charis.MetricV2 {
		spreadVec = gImg // version 2: on CLIP image embeddings
	}
	k := sc.opt.ClassicScale
	p.rec = &record{Index: p.idx, ID: p.s.ID, Subject: p.s.Subject, Variant: p.s.Variant, Status: charis.StatusOK,
		MaskSource: p.maskSource, Axes: axes, Novelty: p.novelty, Judge: p.judgment, Unit: cache.EncodeFloats(metrics.Normalize(spreadVec)),
		Classic: &charis.Classic{
			DINO:  k * charis.Cosine(globalToken(rTok), globalToken(gTok)),
			CLIPI: k * charis.Cosine(e.clipRows[2*i], gImg),
			CLIPT: k * charis.Cosine(gImg, promptVec),
		}}
}

// ic is the IC axis of a sample: on its luma views where its generated subject has no
// colours to compare (version 2), else on the images.
func (sc *scorer) ic(p *prepared, rTok, gTok metrics.Tokens, shape []int) charis.AxisValue {
	cal, version := sc.id.Spec().Calibration, sc.opt.Config.Version
	if sc.opt.Config.IC.LumaBelow <= 0 {
		return metrics.IC(rTok, gTok, cal, version)
	}
	var v charis.AxisValue
	if m := p.mono; m != nil {
		rLuma, _ := sc.tokensAndColours(m.rRow, shape, m.r, p.rMask)
		gLuma, _ := sc.tokensAndColours(m.gRow, shape, m.g, p.gMask)
		v = metrics.IC(rLuma, gLuma, cal, version)
		v.Diag["view"] = "luma"
	} else {
		v = metrics.IC(rTok, gTok, cal, version)
	}
	v.Diag["colour_spread"] = p.spread
	return v
}

// cf is the CF axis of a sample: version 1's, or version 2's where the prompt does not
// license a colour change.
func (sc *scorer) cf(p *prepared, rTok, gTok metrics.Tokens, rCol, gCol metrics.PatchColours) charis.AxisValue {
	cfg := &sc.opt.Config
	if cfg.Version == charis.MetricV1 {
		return metrics.CF(rTok, gTok, rCol, gCol, cfg.CF)
	}
	if lic, ok := metrics.ColourLicense(p.prompt, cfg.CF.License); ok {
		return charis.NotApplicable(map[string]any{"reason": "licensed", "license": lic.Kind, "licensed_by": lic.Phrase, "word": lic.Word})
	}
	return metrics.CFv2(rTok, gTok, rCol, gCol, cfg.CF)
}

// globalToken is the CLS token, or the mean patch token for a model without one.
func globalToken(t metrics.Tokens) []float32 {
	if t.CLS != nil {
		return t.CLS
	}
	mean := make([]float32, len(t.Patches[0]))
	for _, p := range t.Patches {
		for j, v := range p {
			mean[j] += v / float32(len(t.Patches))
		}
	}
	return mean
}

// patchTokens splits an identity output row into its CLS token (nil without one) and its
// grid·grid patch tokens.
func (sc *scorer) patchTokens(row []float32, shape []int) (cls []float32, patches [][]float32, grid int) {
	cls, flat, grid := sc.id.Tokens(&encoder.Tensor{Shape: append([]int{1}, shape...), Data: row}, 0)
	for i := 0; i+shape[1] <= len(flat); i += shape[1] {
		patches = append(patches, flat[i:i+shape[1]])
	}
	return cls, patches, grid
}

// tokensAndColours splits an identity output row into CLS and patch tokens, marks the
// subject patches from the mask, and collects the CIELAB colours of each patch's subject
// pixels from the encoder's preprocessed image.
func (sc *scorer) tokensAndColours(row []float32, shape []int, px, mask *image.RGBA) (metrics.Tokens, metrics.PatchColours) {
	cls, patches, grid := sc.patchTokens(row, shape)
	t := metrics.Tokens{CLS: cls, Patches: patches, Grid: grid}
	cols, cover := subjectColours(px, mask, grid)
	if mask != nil {
		t.Subject = make([]bool, grid*grid)
		cell := float64(px.Rect.Dx()*px.Rect.Dy()) / float64(grid*grid)
		for p := range cover {
			t.Subject[p] = cover[p]/cell >= sc.opt.Config.IC.MaskCoverage
		}
	}
	return t, cols
}

// subjectColours collects the CIELAB colours of the subject pixels (every pixel without a
// mask) of each cell of a grid·grid split of an encoder's preprocessed image, and how many
// subject pixels each cell has.
func subjectColours(px, mask *image.RGBA, grid int) (metrics.PatchColours, []float64) {
	w, h := px.Rect.Dx(), px.Rect.Dy()
	cover := make([]float64, grid*grid)
	cols := make(metrics.PatchColours, grid*grid)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := (y*grid/h)*grid + x*grid/w
			if mask != nil && mask.Pix[mask.PixOffset(mask.Rect.Min.X+x, mask.Rect.Min.Y+y)] < 128 {
				continue
			}
			cover[p]++
			c := px.Pix[px.PixOffset(px.Rect.Min.X+x, px.Rect.Min.Y+y):]
			cols[p] = append(cols[p], colour.FromSRGB8(c[0], c[1], c[2]))
		}
	}
	return cols, cover
}

// patchMasks fills a sample's missing masks from its identity tokens (the metric config's
// mask_fallback patch_pca): metrics.PatchForeground's subject patches, drawn over the
// encoder's preprocessed image. Tokens that give no foreground leave the masks missing
// (the whole image counts) and the sample's mask_source says "none".
func (sc *scorer) patchMasks(p *prepared, rRow, gRow []float32, shape []int) {
	_, rPatches, grid := sc.patchTokens(rRow, shape)
	_, gPatches, _ := sc.patchTokens(gRow, shape)
	rFg, gFg, ok := metrics.PatchForeground(rPatches, gPatches, grid)
	if !ok {
		p.maskSource = "none"
		return
	}
	draw := func(px *image.RGBA, fg []bool) *image.RGBA {
		w, h := px.Rect.Dx(), px.Rect.Dy()
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				if fg[(y*grid/h)*grid+x*grid/w] {
					o := m.PixOffset(x, y)
					m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = 255, 255, 255, 255
				}
			}
		}
		return m
	}
	if p.rMask == nil {
		p.rMask = draw(p.rID, rFg)
	}
	if p.gMask == nil {
		p.gMask = draw(p.gID, gFg)
	}
}

// segment fills missing masks from the segmenter: logit > 0 is subject, scaled to the
// image by nearest neighbour, then preprocessed like the image. An image shown in several
// samples of the chunk (a subject's reference) is segmented once.
func (sc *scorer) segment(live []*prepared) error {
	var imgs []*image.RGBA
	var dst [][]**image.RGBA
	at := map[string]int{}
	need := func(img *image.RGBA, hash string, m **image.RGBA) {
		i, ok := at[hash]
		if !ok {
			i = len(imgs)
			at[hash] = i
			imgs, dst = append(imgs, img), append(dst, nil)
		}
		dst[i] = append(dst[i], m)
	}
	for _, p := range live {
		if p.rMask == nil {
			need(p.rFull, p.rHash, &p.rMask)
		}
		if p.gMask == nil {
			need(p.gFull, p.gHash, &p.gMask)
		}
	}
	if len(imgs) == 0 {
		return nil
	}
	masks, err := sc.seg.Masks(imgs)
	if err != nil {
		return err
	}
	for i, m := range masks {
		px, err := sc.idPx.Pixels(m)
		if err != nil {
			return err
		}
		for _, d := range dst[i] {
			*d = px
		}
	}
	return nil
}
