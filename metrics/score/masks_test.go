package score

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/world"
)

// TestMaskSources: the same world scored with its masks, without them (the world's
// segmenter makes them) and without masks or segmenter (the whole image counts). Each
// sample records where its masks came from and the summary counts them; the segmenter's
// masks give nearly the IC and CF the exact masks give, and far from what the whole image
// gives.
func TestMaskSources(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 6, 3)
	rows, err := charis.ReadManifest(filepath.Join(dir, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].ReferenceMask, rows[i].GeneratedMask = "", ""
	}
	bare := filepath.Join(dir, "bare.jsonl")
	f, err := os.Create(bare)
	if err != nil {
		t.Fatal(err)
	}
	if err := charis.WriteSamples(f, rows); err != nil {
		t.Fatal(err)
	}
	f.Close()

	given := options(t, rt, dir)
	segmented := given
	segmented.Manifest, segmented.Out = bare, t.TempDir()
	whole := segmented
	whole.Out = t.TempDir()
	m := *given.Models
	m.Encoders = slices.DeleteFunc(slices.Clone(m.Encoders), func(e charis.EncoderSpec) bool { return e.Role == charis.RoleSegmenter })
	whole.Models = &m
	pca := whole
	pca.Out = t.TempDir()
	pca.Config.MaskFallback = charis.MaskPatchPCA

	type path struct {
		name   string
		opt    Options
		source string
	}
	axes := map[string]map[string][]float64{}
	for _, p := range []path{{"given", given, "given"}, {"segmenter", segmented, "segmenter"}, {"whole", whole, "none"}, {"pca", pca, charis.MaskPatchPCA}} {
		sum, err := Run(context.Background(), p.opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := sum.Variants[world.GroundTruthVariant].MaskSources; len(got) != 1 || got[p.source] != 18 {
			t.Fatalf("%s: summary mask sources %v, want %s 18", p.name, got, p.source)
		}
		axes[p.name] = map[string][]float64{}
		for _, r := range readResults(t, p.opt.Out) {
			if r.MaskSource != p.source {
				t.Fatalf("%s: %s has mask_source %q", p.name, r.ID, r.MaskSource)
			}
			for _, a := range []string{charis.AxisIC, charis.AxisCF} {
				v, ok := r.Value(a)
				if !ok {
					v = math.NaN()
				}
				axes[p.name][a] = append(axes[p.name][a], v)
			}
		}
	}
	gap := func(a, b []float64) float64 { // mean |a - b| over samples where both apply
		s, n := 0.0, 0
		for i := range a {
			if !math.IsNaN(a[i]) && !math.IsNaN(b[i]) {
				s, n = s+math.Abs(a[i]-b[i]), n+1
			}
		}
		return s / float64(n)
	}
	for _, a := range []string{charis.AxisIC, charis.AxisCF} {
		seg, whole := gap(axes["given"][a], axes["segmenter"][a]), gap(axes["given"][a], axes["whole"][a])
		t.Logf("%s: mean |given - segmenter| %.3f, |given - whole image| %.3f, |given - patch_pca| %.3f", a, seg, whole, gap(axes["given"][a], axes["pca"][a]))
		if seg > 0.05 || seg > whole/2 {
			t.Errorf("%s with the segmenter's masks is %.3f from the given masks' (whole image: %.3f)", a, seg, whole)
		}
	}
}
