// Package worldcheck measures whether a model manifest's encoders mean something on
// charis-world: identity retrieval among held-out characters, text-image retrieval on
// held-out prompts, and (when the manifest has a segmenter) the subject-mask IoU of the
// segmenter per kind of image. Held-out means the benchmark split, whose characters the
// world's encoders never saw (they train on the train split).
package worldcheck

import (
	"fmt"
	"image"
	"math/rand/v2"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/perturb"
	"github.com/charisbench/charisbench/charis/world"
	"github.com/charisbench/charisbench/metrics/encoder"
)

// Options size the check.
type Options struct {
	Subjects int    // held-out characters: the identity gallery
	Queries  int    // transformed views per character to retrieve
	Prompts  int    // held-out (image, prompt) pairs for text-image retrieval
	Seed     uint64 // benchmark-split seed
	Size     int    // canvas side
}

// DefaultOptions: 100 characters × 4 views, 200 prompts, at the generator's size.
var DefaultOptions = Options{Subjects: 100, Queries: 4, Prompts: 200, Seed: 7, Size: world.DefaultSize}

// Report holds top-1 accuracies in [0, 1]; chance is 1/Subjects and 1/Prompts.
type Report struct {
	Options
	IdentityCLS     float64   `json:"identity_top1_cls"`     // query CLS vs gallery CLS
	IdentitySubject float64   `json:"identity_top1_subject"` // mean subject-patch token vs the same
	TextToImage     float64   `json:"text_to_image_top1"`
	ImageToText     float64   `json:"image_to_text_top1"`
	Segmenter       []MaskIoU `json:"segmenter_iou,omitempty"` // when the manifest has a segmenter
}

// MaskIoU is a segmenter's subject-mask IoU against the exact render masks on one kind
// of held-out image: "plain" (the character as it is), a transformation category (each
// character once, options taken in turn; the style category also option by option), or an
// image-space degradation at full strength of the plain render ("blur@1", ...).
type MaskIoU struct {
	Kind string  `json:"kind"`
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
}

// Run renders the held-out sets and measures retrieval with the manifest's identity,
// clip_image and clip_text encoders.
func Run(rt *encoder.Runtime, m *charis.ModelManifest, opt Options) (Report, error) {
	rep := Report{Options: opt}
	if opt.Subjects < 2 || opt.Queries < 1 || opt.Prompts < 2 {
		return rep, fmt.Errorf("need at least 2 subjects, 1 query and 2 prompts")
	}
	id, err := rt.Load(m, charis.RoleIdentity)
	if err != nil {
		return rep, err
	}
	defer id.Close()
	var gallery, queries []*world.Render
	var truth []int
	for i := range opt.Subjects {
		who := world.SubjectIdentity(opt.Seed, world.SplitBench, i)
		gallery = append(gallery, world.Draw(who, nil, opt.Size))
		for k := range opt.Queries {
			queries = append(queries, world.Draw(who, world.SampleScene(opt.Seed, world.SplitBench, i, k, 4), opt.Size))
			truth = append(truth, i)
		}
	}
	gCLS, gSub, err := identityEmbeddings(id, gallery)
	if err != nil {
		return rep, err
	}
	qCLS, qSub, err := identityEmbeddings(id, queries)
	if err != nil {
		return rep, err
	}
	rep.IdentityCLS = top1(qCLS, gCLS, truth)
	rep.IdentitySubject = top1(qSub, gSub, truth)

	img, err := rt.Load(m, charis.RoleCLIPImage)
	if err != nil {
		return rep, err
	}
	defer img.Close()
	txt, err := rt.Load(m, charis.RoleCLIPText)
	if err != nil {
		return rep, err
	}
	defer txt.Close()
	var imgs []*image.RGBA
	var prompts []string
	for j := range opt.Prompts {
		// One prompt per held-out character, from a seed stream the queries do not use.
		who := world.SubjectIdentity(opt.Seed+1, world.SplitBench, j)
		s := world.SampleScene(opt.Seed+1, world.SplitBench, j, 0, 4)
		imgs = append(imgs, world.Draw(who, s, opt.Size).Image)
		prompts = append(prompts, s.Prompt())
	}
	iv, err := img.Embeddings(imgs, nil)
	if err != nil {
		return rep, err
	}
	tv, err := txt.Embeddings(nil, prompts)
	if err != nil {
		return rep, err
	}
	diag := make([]int, len(prompts))
	for j := range diag {
		diag[j] = j
	}
	rep.TextToImage = top1(tv, iv, diag)
	rep.ImageToText = top1(iv, tv, diag)
	if m.Encoder(charis.RoleSegmenter) != nil {
		if rep.Segmenter, err = segmenterIoU(rt, m, opt); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// segmenterIoU renders each held-out character plain, under one transformation of each
// category and under blur, noise and JPEG at strength 1, and compares the
// segmenter's masks with the renders' exact ones.
func segmenterIoU(rt *encoder.Runtime, m *charis.ModelManifest, opt Options) ([]MaskIoU, error) {
	seg, err := rt.Load(m, charis.RoleSegmenter)
	if err != nil {
		return nil, err
	}
	defer seg.Close()
	type kind struct {
		name    string
		renders []*world.Render
		imgs    []*image.RGBA
	}
	degradations := []string{perturb.Blur, perturb.Noise, perturb.JPEG} // blank@1 leaves no subject to find
	names := []string{"plain"}
	for _, c := range world.Categories {
		names = append(names, string(c))
		if c == world.Style {
			for _, t := range world.Options[c] {
				names = append(names, string(c)+": "+t.Option)
			}
		}
	}
	for _, p := range degradations {
		names = append(names, p+"@1")
	}
	var kinds []*kind
	byName := map[string]*kind{}
	for _, n := range names {
		kinds = append(kinds, &kind{name: n})
		byName[n] = kinds[len(kinds)-1]
	}
	add := func(name string, r *world.Render, img *image.RGBA) {
		k := byName[name]
		k.renders, k.imgs = append(k.renders, r), append(k.imgs, img)
	}
	for i := range opt.Subjects {
		who := world.SubjectIdentity(opt.Seed, world.SplitBench, i)
		plain := world.Draw(who, nil, opt.Size)
		add("plain", plain, plain.Image)
		for _, c := range world.Categories {
			t := world.Options[c][i%len(world.Options[c])]
			r := world.Draw(who, world.Scene{t}, opt.Size)
			add(string(c), r, r.Image)
			if c == world.Style {
				add(string(c)+": "+t.Option, r, r.Image)
			}
		}
		for _, p := range degradations {
			img, _, err := perturb.Apply(p, 1, plain.Image, rand.New(rand.NewPCG(opt.Seed, uint64(i))))
			if err != nil {
				return nil, err
			}
			add(p+"@1", plain, img)
		}
	}
	var out []MaskIoU
	for _, k := range kinds {
		if len(k.imgs) == 0 { // fewer characters than a category has options
			continue
		}
		masks, err := seg.Masks(k.imgs)
		if err != nil {
			return nil, err
		}
		row := MaskIoU{Kind: k.name, N: len(masks), Min: 1}
		for i, mk := range masks {
			v := iou(k.renders[i], mk)
			row.Mean += v / float64(len(masks))
			row.Min = min(row.Min, v)
		}
		out = append(out, row)
	}
	return out, nil
}

// iou is the intersection over union of a render's subject pixels and a mask's nonzero
// ones (1 when both are empty).
func iou(r *world.Render, mask *image.RGBA) float64 {
	inter, union := 0, 0
	for i, p := range r.Parts {
		a, b := p.IsSubject(), mask.Pix[4*i] != 0
		if a && b {
			inter++
		}
		if a || b {
			union++
		}
	}
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}

// identityEmbeddings returns per image the CLS token and the mean of the patch tokens
// whose patch is at least half covered by the subject mask.
func identityEmbeddings(s *encoder.Session, renders []*world.Render) (cls, subject [][]float32, err error) {
	imgs := make([]*image.RGBA, len(renders))
	for i, r := range renders {
		imgs[i] = r.Image
	}
	px := s.Pixels()
	if w, h := px.OutputSize(renders[0].Size, renders[0].Size); w != h || (px.Crop != 0 && px.Crop != px.Resize) {
		return nil, nil, fmt.Errorf("worldcheck needs preprocessing that keeps the whole square image (crop 0 or crop = resize)")
	}
	out, err := s.EncodeImages(imgs)
	if err != nil {
		return nil, nil, err
	}
	d := out.Shape[2]
	for i, r := range renders {
		c, patches, grid := s.Tokens(out, i)
		if c == nil {
			return nil, nil, fmt.Errorf("the identity encoder has no CLS token")
		}
		cls = append(cls, c)
		cover := coverage(r, grid)
		mean := make([]float32, d)
		n := 0
		for p, cv := range cover {
			if cv >= 0.5 {
				for j := range d {
					mean[j] += patches[p*d+j]
				}
				n++
			}
		}
		if n == 0 { // subject too small for any patch: fall back to CLS
			copy(mean, c)
		}
		subject = append(subject, mean)
	}
	return cls, subject, nil
}

// coverage is the fraction of each grid cell's pixels that are subject pixels.
func coverage(r *world.Render, grid int) []float64 {
	cov := make([]float64, grid*grid)
	for y := 0; y < r.Size; y++ {
		for x := 0; x < r.Size; x++ {
			if r.Parts[y*r.Size+x].IsSubject() {
				cov[(y*grid/r.Size)*grid+x*grid/r.Size]++
			}
		}
	}
	cell := float64(r.Size*r.Size) / float64(grid*grid)
	for i := range cov {
		cov[i] /= cell
	}
	return cov
}

// top1 is the fraction of queries whose most similar key (cosine) is the true one.
func top1(queries, keys [][]float32, truth []int) float64 {
	hits := 0
	for q, v := range queries {
		best, bestSim := -1, -2.0
		for k, kv := range keys {
			if s := charis.Cosine(v, kv); s > bestSim {
				best, bestSim = k, s
			}
		}
		if best == truth[q] {
			hits++
		}
	}
	return float64(hits) / float64(len(queries))
}
