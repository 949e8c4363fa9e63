package score

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/readfile"
	"github.com/charisbench/charisbench/metrics"
	"github.com/charisbench/charisbench/metrics/cache"
	"github.com/charisbench/charisbench/metrics/encoder"
)

// MinCalibrationSubjects is the fewest subjects a calibration is fitted on: mismatched
// pairs need other subjects, and lo and hi are means over them.
const MinCalibrationSubjects = 5

// CalibrateOptions configure a calibration fit (charisbench calibrate).
type CalibrateOptions struct {
	Manifest   string // sample manifest: references, prompts and images that fit them
	Variant    string // the rows to fit on; "" when the manifest has one variant
	Models     *charis.ModelManifest
	Config     charis.MetricConfig // IC's definition (version) and the identifier words
	Runtime    *encoder.Runtime
	Cache      *cache.Cache // embeddings only; nil: none
	Mismatches int          // mismatched pairs per sample (other subjects, drawn with Seed); 0: 4
	Seed       uint64
	Command    string // recorded in each fit
	Log        *slog.Logger
}

// Calibrations are the fitted lo/hi of IC (identity encoder), PA (clip_text) and TD's
// spread (clip_image), keyed by role.
type Calibrations map[charis.Role]charis.Calibration

// Calibrate fits CHARIS v2's calibrations (charis-v2.md, change 1) on a manifest whose
// images fit their references and prompts (a benchmark's ground truth, real photos):
//
//	IC         hi = mean raw IC of matched pairs (G against its own reference), lo = mean
//	           raw IC of mismatched pairs (G against the reference of another subject)
//	PA         hi = mean raw PA of G against its own prompt, lo = against the prompt of a
//	           sample of another subject
//	TD spread  lo = 0, hi = mean spread among the images of one subject (CLIP image)
//
// Each sample gets opt.Mismatches mismatched pairs, drawn from other subjects with opt.Seed.
// It refuses fewer than MinCalibrationSubjects subjects, a failed sample, and a fit whose
// matched mean does not exceed its mismatched mean.
func Calibrate(ctx context.Context, opt CalibrateOptions) (Calibrations, error) {
	if opt.Mismatches <= 0 {
		opt.Mismatches = 4
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	all, err := charis.ReadManifest(opt.Manifest)
	if err != nil {
		return nil, err
	}
	samples, err := selectVariant(opt.Manifest, all, opt.Variant)
	if err != nil {
		return nil, err
	}
	bySubject := map[string][]int{}
	for i, s := range samples {
		bySubject[s.Subject] = append(bySubject[s.Subject], i)
	}
	subjects := slices.Sorted(maps.Keys(bySubject))
	if len(subjects) < MinCalibrationSubjects {
		return nil, fmt.Errorf("%s: %d subjects; a calibration needs at least %d (mismatched pairs come from other subjects)",
			opt.Manifest, len(subjects), MinCalibrationSubjects)
	}
	manifestH, err := readfile.SHA256("sample manifest", opt.Manifest)
	if err != nil {
		return nil, err
	}
	sc := &scorer{opt: Options{Manifest: opt.Manifest, Models: opt.Models, Config: opt.Config, Runtime: opt.Runtime,
		Cache: opt.Cache, Log: opt.Log, Workers: 1, MaxFileBytes: DefaultMaxFileBytes}, samples: samples, encShas: map[string]string{}, features: true, images: lru{max: imageCacheSize}}
	if err := sc.loadEncoders(); err != nil {
		return nil, err
	}
	defer sc.closeEncoders()
	sc.setup = sc.setupHash()
	f, err := sc.featuresOf(ctx)
	if err != nil {
		return nil, err
	}

	// Mismatched partners: per sample, distinct other subjects, then one of their samples.
	r := rand.New(rand.NewPCG(opt.Seed, 0x63616c6962726174))
	var icM, icX, paM, paX, spread []float64
	// IC of sample j's reference against sample i's generated image, as scoring computes it:
	// on luma views where i's generated subject has no colours to compare.
	ic := func(j, i int) float64 {
		if f.genLuma[i] != nil {
			return metrics.IC(f.refLuma[j], *f.genLuma[i], nil, opt.Config.Version).Raw
		}
		return metrics.IC(f.ref[j], f.gen[i], nil, opt.Config.Version).Raw
	}
	for i := range samples {
		icM = append(icM, ic(i, i))
		paM = append(paM, charis.Cosine(f.img[i], f.prompt[i]))
		others := slices.DeleteFunc(slices.Clone(subjects), func(s string) bool { return s == samples[i].Subject })
		for _, k := range r.Perm(len(others))[:min(opt.Mismatches, len(others))] {
			rows := bySubject[others[k]]
			j := rows[r.IntN(len(rows))]
			icX = append(icX, ic(j, i))
			paX = append(paX, charis.Cosine(f.img[i], f.prompt[j]))
		}
	}
	for _, s := range subjects {
		rows := bySubject[s]
		if len(rows) < 2 {
			continue
		}
		sum := make([]float64, len(f.img[rows[0]]))
		units := make([][]float32, len(rows))
		for k, i := range rows {
			units[k] = metrics.Normalize(f.img[i])
			for d, x := range units[k] {
				sum[d] += float64(x)
			}
		}
		for _, u := range units {
			spread = append(spread, metrics.Spread(u, sum, len(rows)))
		}
	}
	if len(spread) == 0 {
		return nil, fmt.Errorf("%s: no subject has two images: TD's spread cannot be calibrated", opt.Manifest)
	}
	fit := func(axis string, matched, mismatched []float64, lo float64) (charis.Calibration, error) {
		hi := meanOf(matched)
		if mismatched != nil {
			lo = meanOf(mismatched)
		}
		if !(hi > lo) {
			return charis.Calibration{}, fmt.Errorf("%s: %s: matched pairs average %.4f, not above the mismatched %.4f: the encoder does not separate them on this data",
				opt.Manifest, axis, hi, lo)
		}
		return charis.Calibration{Lo: lo, Hi: hi, Fit: &charis.CalibrationFit{Axis: axis, Matched: len(matched),
			Mismatched: len(mismatched), Subjects: len(subjects), Data: opt.Manifest, DataSHA256: manifestH, Command: opt.Command}}, nil
	}
	out := Calibrations{}
	for _, x := range []struct {
		role       charis.Role
		axis       string
		matched    []float64
		mismatched []float64
	}{{charis.RoleIdentity, calIC, icM, icX}, {charis.RoleCLIPText, calPA, paM, paX}, {charis.RoleCLIPImage, calTDSpread, spread, nil}} {
		c, err := fit(x.axis, x.matched, x.mismatched, 0)
		if err != nil {
			return nil, err
		}
		out[x.role] = c
	}
	return out, nil
}

// selectVariant keeps the rows of one variant; with none named, the manifest must have one.
func selectVariant(path string, all []charis.Sample, variant string) ([]charis.Sample, error) {
	names := map[string]bool{}
	var out []charis.Sample
	for _, s := range all {
		names[s.Variant] = true
		if variant == "" || s.Variant == variant {
			out = append(out, s)
		}
	}
	switch {
	case variant == "" && len(names) > 1:
		return nil, fmt.Errorf("%s has %d variants (%v): choose the rows that fit their references and prompts with --variant",
			path, len(names), slices.Sorted(maps.Keys(names)))
	case len(out) == 0:
		return nil, fmt.Errorf("%s: no rows of variant %q (have %v)", path, variant, slices.Sorted(maps.Keys(names)))
	}
	return out, nil
}

func meanOf(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// features holds, per sample, what a calibration needs.
type features struct {
	ref, gen    []metrics.Tokens  // identity tokens of R and G, with subject patches
	refLuma     []metrics.Tokens  // of R's luma view (every sample's: mismatched pairs need them too)
	genLuma     []*metrics.Tokens // of G's luma view; nil where IC compares colours
	img, prompt [][]float32       // CLIP image embedding of G, text embedding of the prompt
}

// features runs every sample through the encoders, a chunk at a time; a failed sample is
// an error (a calibration fitted around holes would not say what it was fitted on).
func (sc *scorer) featuresOf(ctx context.Context) (*features, error) {
	n := len(sc.samples)
	f := &features{ref: make([]metrics.Tokens, n), gen: make([]metrics.Tokens, n), img: make([][]float32, n), prompt: make([][]float32, n)}
	if sc.opt.Config.IC.LumaBelow > 0 {
		f.refLuma, f.genLuma = make([]metrics.Tokens, n), make([]*metrics.Tokens, n)
	}
	if err := sc.sessions(); err != nil {
		return nil, err
	}
	for start := 0; start < n; start += DefaultChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var batch []*prepared
		for i := start; i < min(start+DefaultChunk, n); i++ {
			p := sc.prepare(i)
			if p.rec != nil {
				return nil, fmt.Errorf("%s: sample %s: %s", sc.opt.Manifest, p.s.ID, p.rec.Reason)
			}
			batch = append(batch, p)
		}
		var hashes, prompts []string
		var idPx, clipPx []*image.RGBA
		for _, p := range batch {
			hashes = append(hashes, p.rHash, p.gHash)
			idPx = append(idPx, p.rID, p.gID)
			clipPx = append(clipPx, p.rClip, p.gClip)
			prompts = append(prompts, p.prompt)
		}
		idRows, idShape, err := sc.rows(sc.id, hashes, idPx)
		if err != nil {
			return nil, err
		}
		clipRows, _, err := sc.rows(sc.clipImg, hashes, clipPx)
		if err != nil {
			return nil, err
		}
		tv, err := sc.texts(prompts)
		if err != nil {
			return nil, err
		}
		if sc.seg != nil {
			if err := sc.segment(batch); err != nil {
				return nil, err
			}
		}
		if f.refLuma != nil {
			if err := sc.lumaFeatures(f, batch, idShape); err != nil {
				return nil, err
			}
		}
		for k, p := range batch {
			f.ref[p.idx], _ = sc.tokensAndColours(idRows[2*k], idShape, p.rID, p.rMask)
			f.gen[p.idx], _ = sc.tokensAndColours(idRows[2*k+1], idShape, p.gID, p.gMask)
			f.img[p.idx], f.prompt[p.idx] = clipRows[2*k+1], tv[k]
		}
	}
	return f, nil
}

// lumaFeatures sets a chunk's luma-view tokens: every reference's, and the generated
// image's where IC compares luma.
func (sc *scorer) lumaFeatures(f *features, batch []*prepared, shape []int) error {
	var hashes []string
	var px []*image.RGBA
	for _, p := range batch {
		if sc.setLumaViews(p) {
			hashes, px = append(hashes, lumaKey(p.gHash)), append(px, p.mono.g)
		} else {
			p.mono = &lumaViews{r: lumaView(p.rID)}
		}
		hashes, px = append(hashes, lumaKey(p.rHash)), append(px, p.mono.r)
	}
	rows, _, err := sc.rows(sc.id, hashes, px)
	if err != nil {
		return err
	}
	k := 0
	for _, p := range batch {
		if p.mono.g != nil {
			g, _ := sc.tokensAndColours(rows[k], shape, p.mono.g, p.gMask)
			f.genLuma[p.idx] = &g
			k++
		}
		f.refLuma[p.idx], _ = sc.tokensAndColours(rows[k], shape, p.mono.r, p.rMask)
		k++
	}
	return nil
}
