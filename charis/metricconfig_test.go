package charis

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetricConfigVersions(t *testing.T) {
	write := func(text string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "metric.yaml")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := LoadMetricConfig("")
	if err != nil || c.Version != MetricV2 || c.CF.License == nil || c.GeoFloor != defaultGeoFloor {
		t.Fatalf("defaults: version %d, license %v, geo floor %v, err %v; want CHARIS v2", c.Version, c.CF.License, c.GeoFloor, err)
	}
	c, err = LoadMetricConfig(write("version: 1\ncf: {tau: 12}\n"))
	if err != nil || c.Version != MetricV1 || c.CF.License != nil || c.CF.Tau != 12 || c.CF.K != defaultK {
		t.Fatalf("version 1 with an override: %+v, %v", c.CF, err)
	}
	// A partial override of a word list keeps the other lists.
	c, err = LoadMetricConfig(write("cf:\n  license:\n    style: [sketch]\n"))
	if err != nil || len(c.CF.License.Style) != 1 || len(c.CF.License.Boundaries) == 0 {
		t.Fatalf("license override: %+v, %v", c.CF.License, err)
	}
	for _, bad := range []struct{ text, want string }{
		{"version: 3\n", "metric.yaml:1: version"},
		{"version: 1\ncf:\n  license:\n    style: [sketch]\n", "cf.license"},
		{"version: 1\nic:\n  luma_below: 20\n", "ic.luma_below"},
		{"ic:\n  luma_below: -1\n", "metric.yaml:2: ic.luma_below"},
		{"geo_floor: 0\n", "geo_floor"},
		{"mask_fallback: segmenter\n", "metric.yaml:1: mask_fallback"},
	} {
		_, err := LoadMetricConfig(write(bad.text))
		var fe *FieldError
		if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want a field error naming %s", bad.text, err, bad.want)
		}
	}
	// The default mask fallback, named or not, is one config with one hash; patch_pca is another.
	def := DefaultMetricConfig()
	named, err := LoadMetricConfig(write("mask_fallback: whole_image\n"))
	if err != nil || named.SHA256() != def.SHA256() {
		t.Errorf("mask_fallback: whole_image: %v; hash %s, want the default's %s", err, named.SHA256(), def.SHA256())
	}
	pca, err := LoadMetricConfig(write("mask_fallback: patch_pca\n"))
	if err != nil || pca.MaskFallback != MaskPatchPCA || pca.SHA256() == def.SHA256() {
		t.Errorf("mask_fallback: patch_pca: %+v, %v", pca.MaskFallback, err)
	}
}

// TestHostileMetricConfig: wrong document types, duplicate keys, alias bombs, NaN,
// infinities and sizes that would take hours or gigabytes are refused with line and field.
func TestHostileMetricConfig(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	for _, c := range []struct{ text, want string }{
		{"- version: 2\n", ":1: want a mapping of fields (key: value), got a list"},
		{"2\n", `:1: want a mapping of fields (key: value), got the value "2"`},
		{"cf: {k: 4}\ncf: {k: 5}\n", `:2: mapping key "cf" already defined at line 1`},
		{laughs, ":"},
		{"cf: {k: 1000000000}\n", ":1: cf.k: must be in [1, 256], got 1000000000"},
		{"cf: {k: 99999999999999999999}\n", ":1: cf.k: cannot unmarshal"},
		{"cf: {tau: .inf}\n", ":1: cf.tau: must be a positive number, got +Inf"},
		{"cf: {kl: .nan}\n", ":1: cf.kl: must be a positive number, got NaN"},
		{"vq: {scale: -1}\n", ":1: vq.scale: must be a positive number, got -1"},
		{"vq: {min_luma_std: .nan}\n", ":1: vq.min_luma_std: must be in [0, 1), got NaN"},
		{"vq: {max_clipped_share: 2}\n", ":1: vq.max_clipped_share: must be in (0, 1], got 2"},
		{"td: {ssim_size: 100000}\n", ":1: td.ssim_size: must be in [11, 1024]"},
		{"td: {spread_calibration: {lo: 0, hi: .inf}}\n", ":1: td.spread_calibration: lo and hi must be finite"},
		{"bootstrap: {draws: 1000000000000}\n", ":1: bootstrap.draws: must be in [1000, 1000000]"},
		{"bootstrap: {draws: -5}\n", ":1: bootstrap.draws: must be in [1000, 1000000], got -5"},
		{"weights: {ic: .nan, pa: 1, cf: 1, vq: 1, td: 1}\n", ":1: weights.ic: must be a non-negative number, got NaN"},
	} {
		p := filepath.Join(t.TempDir(), "metric.yaml")
		if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadMetricConfig(p)
		var fe *FieldError
		if err == nil || !errors.As(err, &fe) || fe.File != p || !strings.HasPrefix(strings.TrimPrefix(err.Error(), p), c.want) {
			t.Errorf("%q: error %v, want a field error %s%s", c.text, err, p, c.want)
		}
	}
}
