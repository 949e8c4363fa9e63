package worldcheck

import (
	"image"
	"path/filepath"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/world"
	"github.com/charisbench/charisbench/internal/ortest"
	"github.com/charisbench/charisbench/metrics/encoder"
)

// Minimum top-1 accuracies of the committed world encoders on a held-out set of 60
// characters × 2 views and 120 prompts (chance: 1/60 and 1/120). The measured values
// (make world-eval, 100 × 4 and 200 prompts) are in docs/world.md; these floors sit well
// below them and far above chance, so a broken encoder or preprocessing fails.
const (
	minIdentityTop1    = 0.5
	minTextToImageTop1 = 0.15
	// The segmenter's held-out mask IoU (measured: docs/world.md): plain characters, and
	// every other kind of image, transformed or degraded at full strength.
	minPlainIoU = 0.9
	minAnyIoU   = 0.8
)

func TestWorldEncodersMeanSomething(t *testing.T) {
	rt := ortest.Runtime(t, encoder.Options{})
	dir := t.TempDir()
	if err := world.WriteEncoders(dir); err != nil {
		t.Fatal(err)
	}
	m, err := charis.LoadModelManifest(filepath.Join(dir, world.EncoderManifest))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Subjects: 60, Queries: 2, Prompts: 120, Seed: 7, Size: world.DefaultSize}
	rep, err := Run(rt, m, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("identity top-1: CLS %.3f, subject patches %.3f; text->image %.3f, image->text %.3f",
		rep.IdentityCLS, rep.IdentitySubject, rep.TextToImage, rep.ImageToText)
	if rep.IdentityCLS < minIdentityTop1 || rep.IdentitySubject < minIdentityTop1 {
		t.Errorf("identity retrieval below %.2f", minIdentityTop1)
	}
	if rep.TextToImage < minTextToImageTop1 {
		t.Errorf("text->image retrieval %.3f below %.2f", rep.TextToImage, minTextToImageTop1)
	}
	kinds := map[string]MaskIoU{}
	for _, r := range rep.Segmenter {
		kinds[r.Kind] = r
		t.Logf("segmenter IoU %-16s mean %.3f min %.3f (n %d)", r.Kind, r.Mean, r.Min, r.N)
		if r.Mean < minAnyIoU {
			t.Errorf("segmenter IoU on %s: %.3f, below %.2f", r.Kind, r.Mean, minAnyIoU)
		}
	}
	for _, k := range []string{"plain", "style: outline", "style: sketch", "occlusion", "blur@1", "noise@1", "jpeg@1"} {
		if kinds[k].N == 0 {
			t.Errorf("no segmenter IoU measured on %s", k)
		}
	}
	if kinds["plain"].Mean < minPlainIoU {
		t.Errorf("segmenter IoU on plain characters %.3f, below %.2f", kinds["plain"].Mean, minPlainIoU)
	}
}

// TestIoU: intersection over union of a render's subject pixels and a mask.
func TestIoU(t *testing.T) {
	r := &world.Render{Size: 2, Parts: []world.Part{world.Head, world.Torso, world.Background, world.Occluder}}
	mask := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for i, v := range []uint8{255, 0, 255, 0} {
		mask.Pix[4*i] = v
	}
	if got := iou(r, mask); got != 1.0/3 { // head in both; torso only in the render, pixel 2 only in the mask
		t.Fatalf("iou %v, want 1/3", got)
	}
	if got := iou(&world.Render{Size: 1, Parts: []world.Part{world.Background}}, image.NewRGBA(image.Rect(0, 0, 1, 1))); got != 1 {
		t.Fatalf("both empty: %v, want 1", got)
	}
}

func TestTop1(t *testing.T) {
	keys := [][]float32{{1, 0}, {0, 1}, {-1, 0}}
	queries := [][]float32{{0.9, 0.1}, {0.1, 0.9}, {0.2, 0.8}}
	if got := top1(queries, keys, []int{0, 1, 2}); got != 2.0/3 {
		t.Fatalf("top1 = %v, want 2/3", got)
	}
}

func TestCoverage(t *testing.T) {
	r := world.Draw(world.SubjectIdentity(1, world.SplitBench, 0), nil, 64)
	cov := coverage(r, 8)
	sum := 0.0
	for _, c := range cov {
		if c < 0 || c > 1 {
			t.Fatalf("coverage %v outside [0, 1]", c)
		}
		sum += c * 64
	}
	pixels := 0
	for _, p := range r.Parts {
		if p.IsSubject() {
			pixels++
		}
	}
	if int(sum+0.5) != pixels {
		t.Fatalf("coverage sums to %v pixels, mask has %d", sum, pixels)
	}
}
