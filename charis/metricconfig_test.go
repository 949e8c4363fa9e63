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
