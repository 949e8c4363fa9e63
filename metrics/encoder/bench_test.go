package encoder

import (
	"image"
	"testing"

	"github.com/charisbench/charisbench/charis"
)

// BenchmarkEncodeBatch: one batch of 16 images (preprocessing included) through each tiny
// image encoder on the CPU. Reports images/s.
func BenchmarkEncodeBatch(b *testing.B) {
	rt := openRuntime(b, Options{BatchSize: 16})
	m := loadManifest(b, tinyManifest)
	imgs := testImages(b, 16)
	for _, role := range []charis.Role{charis.RoleIdentity, charis.RoleCLIPImage} {
		s := load(b, rt, m, role)
		b.Run(string(role), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.EncodeImages(imgs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(16*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
	text := load(b, rt, m, charis.RoleCLIPText)
	prompts := make([]string, 16)
	for i := range prompts {
		prompts[i] = "the character, turned left, on a green background, in dim light"
	}
	b.Run("clip_text", func(b *testing.B) {
		for b.Loop() {
			if _, err := text.EncodeTexts(prompts); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(16*b.N)/b.Elapsed().Seconds(), "prompts/s")
	})
}

// BenchmarkRuntimes runs each charis-world encoder on ONNX Runtime and on GoMLX's pure-Go
// backend side by side, one batch of 16 preprocessed images (16 prompts for the text
// encoder) per iteration. Reports images/s; the ratio of a role's two figures is the
// GoMLX runtime's cost on the CPU (its reason to exist is XLA on a GPU).
func BenchmarkRuntimes(b *testing.B) {
	m := loadManifest(b, worldManifest)
	engines := map[Engine]*Runtime{ONNXRuntime: openRuntime(b, Options{BatchSize: 16})}
	gx, err := Open(Options{Engine: GoMLX, BatchSize: 16})
	if err != nil {
		b.Fatal(err)
	}
	engines[GoMLX] = gx
	prompts := make([]string, 16)
	for i := range prompts {
		prompts[i] = "the character, turned left, on a green background, in dim light"
	}
	for _, e := range m.Encoders {
		for _, engine := range []Engine{ONNXRuntime, GoMLX} {
			s := load(b, engines[engine], m, e.Role)
			run := func() error { _, err := s.EncodeTexts(prompts); return err }
			if e.Role != charis.RoleCLIPText {
				pxs := make([]*image.RGBA, 16)
				for i, img := range testImages(b, 16) {
					var err error
					if pxs[i], err = s.Pixels().Pixels(img); err != nil {
						b.Fatal(err)
					}
				}
				run = func() error { _, err := s.EncodePixels(pxs); return err }
			}
			if err := run(); err != nil { // GoMLX builds its graph on the first batch
				b.Fatal(err)
			}
			b.Run(string(e.Role)+"/"+string(engine), func(b *testing.B) {
				for b.Loop() {
					if err := run(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(16*b.N)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}
