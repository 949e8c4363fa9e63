package encoder

import (
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
