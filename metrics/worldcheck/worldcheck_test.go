package worldcheck

import (
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
