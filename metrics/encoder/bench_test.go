package encoder

import (
	"fmt"
	"image"
	"os"
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

// BenchmarkORTAlone is ONNX Runtime's own speed on the encoder work of scoring 60 samples
// (per sample: two images through the identity and CLIP image encoders, one prompt through
// the CLIP text encoder; batches of 16) on ready 224×224 pixels: the ceiling make
// bench-score compares scoring with. It runs on the models of $CHARISBENCH_BENCH_MODELS (a
// model manifest; tools/encoders/real_shaped.py writes the real-shaped ones) and is
// skipped without it. Reports samples/s.
func BenchmarkORTAlone(b *testing.B) {
	path := os.Getenv("CHARISBENCH_BENCH_MODELS")
	if path == "" {
		b.Skip("CHARISBENCH_BENCH_MODELS (a model manifest) is not set")
	}
	const samples, batch = 60, 16
	rt := openRuntime(b, Options{BatchSize: batch})
	m := loadManifest(b, path)
	px := make([]*image.RGBA, batch)
	for i := range px {
		px[i] = image.NewRGBA(image.Rect(0, 0, 224, 224))
		for j := range px[i].Pix {
			px[i].Pix[j] = uint8(i*31 + j*7)
		}
	}
	prompts := make([]string, batch)
	for i := range prompts {
		prompts[i] = fmt.Sprintf("a backpack in the jungle, photo %d", i)
	}
	id, clipI, clipT := load(b, rt, m, charis.RoleIdentity), load(b, rt, m, charis.RoleCLIPImage), load(b, rt, m, charis.RoleCLIPText)
	for b.Loop() {
		for _, s := range []*Session{id, clipI} {
			for done := 0; done < 2*samples; done += batch {
				if _, err := s.EncodePixels(px[:min(batch, 2*samples-done)]); err != nil {
					b.Fatal(err)
				}
			}
		}
		for done := 0; done < samples; done += batch {
			if _, err := clipT.EncodeTexts(prompts[:min(batch, samples-done)]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(samples*b.N)/b.Elapsed().Seconds(), "samples/s")
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
