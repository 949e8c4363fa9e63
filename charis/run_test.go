package charis

import (
	"strings"
	"testing"
)

// TestSameSetupDecoders: runs decoded by different JPEG decoders are not comparable, nor
// by different WebP decoders where both runs record theirs (runs from before the WebP
// decoder was recorded still compare).
func TestSameSetupDecoders(t *testing.T) {
	base := Provenance{MetricConfigHash: "h", JPEGDecoder: "libjpeg-turbo", WebPDecoder: "libwebp"}
	for _, c := range []struct {
		name string
		edit func(*Provenance)
		want string // "" when comparable
	}{
		{"same", func(*Provenance) {}, ""},
		{"jpeg", func(p *Provenance) { p.JPEGDecoder = "Go" }, "decode JPEG differently"},
		{"webp", func(p *Provenance) { p.WebPDecoder = "Go" }, "decode WebP differently"},
		{"webp unrecorded", func(p *Provenance) { p.WebPDecoder = "" }, ""},
	} {
		q := base
		c.edit(&q)
		err := base.SameSetup(&q)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
