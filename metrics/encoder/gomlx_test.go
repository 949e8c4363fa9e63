package encoder

import (
	"fmt"
	"math"
	"testing"

	"github.com/charisbench/charisbench/charis"
)

const worldManifest = repoRoot + "/charis/world/encoders/models.yaml"

// parityTexts cover the context length's edges: empty, short, and longer than 77 tokens.
var parityTexts = []string{"", "a dog", "the character, turned left, in a watercolour forest at dusk",
	"a photo of a red backpack on a wooden table next to a window with the morning light falling across the floor and a cat sleeping on the chair, in the style of an oil painting with thick brush strokes and warm colours everywhere",
	"sks", "a cat wearing a hat"}

// TestGoMLXParity runs every encoder of charis-world and of testdata/models through the
// GoMLX runtime (the pure-Go backend) and ONNX Runtime on the same inputs, in batches that
// need padding (7 inputs, batch size 4: buckets 4 and 4 of which 1 pads), and holds each
// output row to ONNX Runtime's: cosine >= 0.99999 and max |difference| <= 1e-3 of the row's
// largest magnitude. go test -v prints the worst per encoder.
func TestGoMLXParity(t *testing.T) {
	ort := openRuntime(t, Options{BatchSize: 4})
	gx, err := Open(Options{Engine: GoMLX, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer gx.Close()
	imgs := testImages(t, 7)
	for _, path := range []string{tinyManifest, worldManifest} {
		m := loadManifest(t, path)
		for _, e := range m.Encoders {
			t.Run(e.Name, func(t *testing.T) {
				a, b := load(t, ort, m, e.Role), load(t, gx, m, e.Role)
				var ta, tb *Tensor
				var errA, errB error
				if e.Role == charis.RoleCLIPText {
					ta, errA = a.EncodeTexts(parityTexts)
					tb, errB = b.EncodeTexts(parityTexts)
				} else {
					ta, errA = a.EncodeImages(imgs)
					tb, errB = b.EncodeImages(imgs)
				}
				if errA != nil || errB != nil {
					t.Fatalf("onnxruntime: %v; gomlx: %v", errA, errB)
				}
				if fmt.Sprint(ta.Shape) != fmt.Sprint(tb.Shape) {
					t.Fatalf("shapes: onnxruntime %v, gomlx %v", ta.Shape, tb.Shape)
				}
				worstCos, worstAbs, worstRel := 1.0, 0.0, 0.0
				for i := range ta.Shape[0] {
					ra, rb := ta.Row(i), tb.Row(i)
					c, d, scale := cosine(ra, rb), maxAbsDiff(ra, rb), maxAbs(ra)
					worstCos, worstAbs = math.Min(worstCos, c), math.Max(worstAbs, d)
					worstRel = math.Max(worstRel, d/math.Max(scale, 1e-6))
				}
				t.Logf("%s (%s): worst cosine %.8f, max |diff| %.2e (%.2e of the row's largest value)", e.Name, e.Role, worstCos, worstAbs, worstRel)
				if worstCos < 0.99999 || worstRel > 1e-3 {
					t.Errorf("%s: gomlx differs from onnxruntime: cosine %.8f, max |diff| %.2e (%.2e relative)", e.Name, worstCos, worstAbs, worstRel)
				}
			})
		}
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 && bb == 0 {
		return 1
	}
	return ab / math.Sqrt(aa*bb)
}

func maxAbs(a []float32) float64 {
	m := 0.0
	for _, v := range a {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}
