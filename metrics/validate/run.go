package validate

import (
	"context"
	"fmt"
	"hash/fnv"
	"image"
	"image/png"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/charis/perturb"
	"github.com/charisbench/charisbench/charis/world"
	"github.com/charisbench/charisbench/metrics/score"
)

// DefaultStrengths are the strengths of the image-space families.
var DefaultStrengths = []float64{0.25, 0.5, 0.75, 1}

// Options configure a validation run.
type Options struct {
	Manifest  string    // a charis-world build's manifest, or any benchmark's
	Variant   string    // a benchmark's rows to treat as ground truth ("" when it has one variant)
	Out       string    // families/ (when built), run/ (the scored run)
	Strengths []float64 // image-space family strengths; nil: DefaultStrengths
	Seed      uint64    // noise and the swaps
	Score     score.Options
}

// Run scores a validation benchmark and returns its report. A manifest that already holds
// the families (a charis-world build with perturbations) is scored as it is; any other is
// taken as ground truth and the families are built from it (BuildFamilies).
//
// The report is of the path users run: generated images never come with subject masks,
// nor do most references (DreamBench's photos), so every given mask is stripped
// (StripMasks) and the masks come from the model manifest's segmenter, or the whole image
// counts. Where the benchmark gives masks, it is also scored with them as they are, into
// Report.GivenMasks, for comparison; the verdict is the mask-free path's.
func Run(ctx context.Context, opt Options) (*Report, error) {
	samples, err := charis.ReadManifest(opt.Manifest)
	if err != nil {
		return nil, err
	}
	manifest := opt.Manifest
	if !hasFamilies(samples) {
		if manifest, err = BuildFamilies(opt.Manifest, samples, opt.Variant, filepath.Join(opt.Out, "families"), opt.Strengths, opt.Seed); err != nil {
			return nil, err
		}
		if samples, err = charis.ReadManifest(manifest); err != nil {
			return nil, err
		}
	}
	cats, err := transformCategories(manifest, samples)
	if err != nil {
		return nil, err
	}
	maskFree, stripped, err := StripMasks(manifest, samples, filepath.Join(opt.Out, "mask-free"))
	if err != nil {
		return nil, err
	}
	rep, err := scoreAndValidate(ctx, opt.Score, maskFree, filepath.Join(opt.Out, "run"), cats)
	if err != nil || !stripped {
		return rep, err
	}
	if rep.GivenMasks, err = scoreAndValidate(ctx, opt.Score, manifest, filepath.Join(opt.Out, "run-given-masks"), cats); err != nil {
		return nil, err
	}
	return rep, nil
}

// scoreAndValidate scores a manifest into out and validates the run. The scored run
// resumes when its inputs are the same; a run of other inputs (a rebuilt benchmark,
// another metric) is out of date and replaced.
func scoreAndValidate(ctx context.Context, so score.Options, manifest, out string, cats map[string][]string) (*Report, error) {
	so.Manifest, so.Out, so.Restart = manifest, out, true
	if _, err := score.Run(ctx, so); err != nil {
		return nil, err
	}
	run, err := charis.ReadRun(out)
	if err != nil {
		return nil, err
	}
	return validate(run, cats)
}

// transformCategories reads, from a charis-world build's ground truth, which kinds of
// transformation each ground-truth sample's prompt asks for: its categories, and for a
// style its option too ("style: sketch"). A benchmark without that truth gives none.
func transformCategories(manifest string, samples []charis.Sample) (map[string][]string, error) {
	cats := map[string][]string{}
	for _, s := range samples {
		if s.Variant != GroundTruth || len(s.World) == 0 {
			continue
		}
		truth, err := world.TruthOf(&s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", manifest, err)
		}
		for _, t := range truth.Transforms {
			cats[s.ID] = append(cats[s.ID], string(t.Category))
			if t.Category == world.Style {
				cats[s.ID] = append(cats[s.ID], string(t.Category)+": "+t.Option)
			}
		}
	}
	return cats, nil
}

// StripMasks writes dir/manifest.jsonl: the rows with every reference and generated mask
// removed and the image paths made absolute, and returns its path and true. A manifest
// without any mask is returned as it is, with false.
func StripMasks(manifest string, rows []charis.Sample, dir string) (string, bool, error) {
	if !slices.ContainsFunc(rows, func(s charis.Sample) bool { return s.ReferenceMask != "" || s.GeneratedMask != "" }) {
		return manifest, false, nil
	}
	out := make([]charis.Sample, len(rows))
	for i, s := range rows {
		s.Reference, s.Generated = charis.ResolveAbs(manifest, s.Reference), charis.ResolveAbs(manifest, s.Generated)
		s.ReferenceMask, s.GeneratedMask = "", ""
		out[i] = s
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, err
	}
	path := filepath.Join(dir, "manifest.jsonl")
	return path, true, charis.WriteAtomic(path, func(f *os.File) error { return charis.WriteSamples(f, out) })
}

func hasFamilies(samples []charis.Sample) bool {
	gt, fam := false, false
	for _, s := range samples {
		if s.Variant == GroundTruth {
			gt = true
		} else if _, _, ok := parseVariant(s.Variant); ok {
			fam = true
		}
	}
	return gt && fam
}

// BuildFamilies writes a validation manifest into dir from a benchmark whose images fit
// their references and prompts (the ground truth), and returns its path:
//
//	ground_truth       the rows as they are
//	blur, noise, jpeg, blank @ each strength   the generated image degraded (charis/perturb)
//	copy_paste@1       the reference as the generated image
//	identity_swap@1    the reference (and its mask) of the next subject, in sorted order
//	prompt_mismatch@1  the prompt of a sample of the next subject
//
// Ids must not contain "@" (family ids are ID@KIND@STRENGTH). It needs two subjects.
func BuildFamilies(manifest string, all []charis.Sample, variant, dir string, strengths []float64, seed uint64) (string, error) {
	if strengths == nil {
		strengths = DefaultStrengths
	}
	var rows []charis.Sample
	variants := map[string]bool{}
	for _, s := range all {
		variants[s.Variant] = true
		if variant == "" || s.Variant == variant {
			rows = append(rows, s)
		}
	}
	if variant == "" && len(variants) > 1 {
		return "", fmt.Errorf("%s has variants %v: choose the ground truth with --variant", manifest, slices.Sorted(maps.Keys(variants)))
	}
	if len(rows) == 0 {
		return "", fmt.Errorf("%s: no rows of variant %q", manifest, variant)
	}
	bySubject := map[string][]int{}
	for i, s := range rows {
		if strings.Contains(s.ID, "@") {
			return "", fmt.Errorf("%s: sample id %q contains '@', which validation uses to name family samples", manifest, s.ID)
		}
		bySubject[s.Subject] = append(bySubject[s.Subject], i)
	}
	subjects := slices.Sorted(maps.Keys(bySubject))
	if len(subjects) < 2 {
		return "", fmt.Errorf("%s: one subject; identity swaps and prompt mismatches need at least two", manifest)
	}
	next := map[string]string{}
	for i, s := range subjects {
		next[s] = subjects[(i+1)%len(subjects)]
	}
	abs := func(p string) string { return charis.ResolveAbs(manifest, p) }
	var out []charis.Sample
	for _, s := range rows {
		s.Reference, s.Generated, s.ReferenceMask, s.GeneratedMask = abs(s.Reference), abs(s.Generated), abs(s.ReferenceMask), abs(s.GeneratedMask)
		s.Variant, s.World = GroundTruth, nil
		out = append(out, s)
	}
	n := len(out)
	for i := 0; i < n; i++ {
		gt := out[i]
		family := func(kind string, strength float64) charis.Sample {
			f := gt
			f.Variant = fmt.Sprintf("%s@%g", kind, strength)
			f.ID = gt.ID + "@" + f.Variant
			return f
		}
		img, err := imageio.ReadFile(gt.Generated, imageio.Options{})
		if err != nil {
			return "", fmt.Errorf("%s: sample %s: %w", manifest, gt.ID, err)
		}
		for _, kind := range perturb.Kinds {
			for _, st := range strengths {
				f := family(kind, st)
				h := fnv.New64a()
				fmt.Fprint(h, f.ID)
				pimg, _, err := perturb.Apply(kind, st, img, rand.New(rand.NewPCG(seed, h.Sum64())))
				if err != nil {
					return "", err
				}
				f.Generated = filepath.Join(dir, f.Variant, fileName(gt.ID)+".png")
				if err := writePNG(f.Generated, pimg); err != nil {
					return "", err
				}
				out = append(out, f)
			}
		}
		cp := family("copy_paste", 1)
		cp.Generated, cp.GeneratedMask = gt.Reference, gt.ReferenceMask
		out = append(out, cp)
		other := bySubject[next[gt.Subject]]
		j := other[i%len(other)]
		sw := family("identity_swap", 1)
		sw.Reference, sw.ReferenceMask = out[j].Reference, out[j].ReferenceMask
		out = append(out, sw)
		pm := family("prompt_mismatch", 1)
		pm.Prompt = out[j].Prompt
		out = append(out, pm)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "manifest.jsonl")
	return path, charis.WriteAtomic(path, func(f *os.File) error { return charis.WriteSamples(f, out) })
}

// fileName makes a sample id safe as a file name.
func fileName(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, id)
}

func writePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return charis.WriteAtomic(path, func(f *os.File) error { return png.Encode(f, img) })
}
