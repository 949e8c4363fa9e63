package charis

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tinyManifest = "../testdata/models/models.yaml"

func TestLoadTinyManifest(t *testing.T) {
	m, err := LoadModelManifest(tinyManifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Roles {
		e := m.Encoder(r)
		if r == RoleAttrs { // the judge's probe is charis-world's (metrics/judge tests it)
			continue
		}
		if e == nil {
			t.Fatalf("role %s missing", r)
		}
		if _, err := m.CheckModel(e, nil); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	id := m.Encoder(RoleIdentity)
	if id.Output.PrefixTokens() != 3 {
		t.Errorf("identity prefix tokens = %d, want CLS + 2 registers", id.Output.PrefixTokens())
	}
	if s := id.PixelSpec(); s.Resize != 256 || s.Crop != 224 || s.Rescale != 1.0/255 || s.Std[2] != 0.225 {
		t.Errorf("identity pixel spec %+v", s)
	}
	if _, err := m.Tokenizer(m.Encoder(RoleCLIPText)); err != nil {
		t.Error(err)
	}
}

// TestManifestErrors: each broken manifest is rejected with the file, line and field.
func TestManifestErrors(t *testing.T) {
	const good = `version: 1
encoders:
  - name: dino
    role: identity
    path: identity.onnx
    sha256: b229c59ece757c7bdb2ec7eb23a69ab62d00337ae95d3d9cd08278f5301cdba3
    preprocess:
      resize: 256
      crop: 224
      crop_rounding: floor
      interpolation: bicubic
      mean: [0.485, 0.456, 0.406]
      std: [0.229, 0.224, 0.225]
`
	cases := []struct {
		name, old, new, want string
	}{
		{"unknown field", "      crop: 224\n", "      crop: 224\n      cropp: 3\n", "m.yaml:10: field cropp not found"},
		{"unknown role", "role: identity", "role: dino", "m.yaml:4: encoders[0].role: unknown role \"dino\""},
		{"bad interpolation", "interpolation: bicubic", "interpolation: nearest", "m.yaml:11: encoders[0].preprocess.interpolation: unknown filter \"nearest\""},
		{"crop too big", "crop: 224", "crop: 300", "m.yaml:9: encoders[0].preprocess.crop: 300 is larger"},
		{"short mean", "mean: [0.485, 0.456, 0.406]", "mean: [0.5]", "m.yaml:12: encoders[0].preprocess.mean: want 3 values"},
		{"bad hash", "sha256: b229", "sha256: zz29", "m.yaml:6: encoders[0].sha256: want 64"},
		{"wrong type", "resize: 256", "resize: big", "m.yaml:8: encoders[0].preprocess.resize: cannot unmarshal !!str `big`"},
		{"huge resize", "resize: 256", "resize: 1000000000", "m.yaml:8: encoders[0].preprocess.resize"},
		{"negative resize", "resize: 256", "resize: -256", "m.yaml:8: encoders[0].preprocess.resize"},
		{"negative crop", "crop: 224", "crop: -224", "m.yaml:9: encoders[0].preprocess.crop"},
		{"NaN std", "std: [0.229, 0.224, 0.225]", "std: [.nan, 0.224, 0.225]", "m.yaml:13: encoders[0].preprocess.std"},
		{"infinite mean", "mean: [0.485, 0.456, 0.406]", "mean: [0.485, -.inf, 0.406]", "m.yaml:12: encoders[0].preprocess.mean"},
		{"zero std", "std: [0.229, 0.224, 0.225]", "std: [0, 0.224, 0.225]", "m.yaml:13: encoders[0].preprocess.std"},
		{"duplicate key", "version: 1\n", "version: 1\nversion: 1\n", "m.yaml:2: mapping key \"version\" already defined"},
		{"list document", "version: 1\nencoders:\n", "- version: 1\n- encoders:\n", "m.yaml:1: want a mapping of fields"},
		{"no rounding", "      crop_rounding: floor\n", "", "m.yaml:7: encoders[0].preprocess.crop_rounding: missing"},
		{"bad version", "version: 1", "version: 2", "m.yaml:1: version: unsupported"},
		{"syntax", "encoders:\n", "encoders:\n  - [\n", "m.yaml:"},
		{"duplicate role", "", "", "m.yaml:15: encoders[1].role: role identity is already declared"},
		{"heads on identity", "      std: [0.229, 0.224, 0.225]\n", "      std: [0.229, 0.224, 0.225]\n    heads: [{name: a, rgb: true}]\n", "m.yaml:14: encoders[0].heads: only an attributes model"},
		{"attributes without heads", "role: identity", "role: attributes", "m.yaml:3: encoders[0].heads: missing"},
		{"one-value head", "role: identity", "role: attributes\n    heads: [{name: style, values: [none]}]", "m.yaml:5: encoders[0].heads[0]: style: a class head needs"},
		{"class and rgb", "role: identity", "role: attributes\n    heads: [{name: c, values: [a, b], rgb: true}]", "m.yaml:5: encoders[0].heads[0]: c: either values"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(good, c.old, c.new, 1)
			if c.name == "duplicate role" {
				text += strings.SplitN(good, "encoders:\n", 2)[1]
			}
			path := filepath.Join(dir, "m.yaml")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadModelManifest(path)
			if err == nil {
				t.Fatalf("accepted:\n%s", text)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v, want *FieldError", err, err)
			}
			if got := strings.TrimPrefix(err.Error(), dir+string(filepath.Separator)); !strings.HasPrefix(got, c.want) {
				t.Fatalf("error\n  %s\nwant prefix\n  %s", got, c.want)
			}
		})
	}
}

func TestReadModelChecksHash(t *testing.T) {
	dir := t.TempDir()
	onnx := filepath.Join(dir, "identity.onnx")
	if err := os.WriteFile(onnx, []byte("not the model"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(tinyManifest)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "models.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModelManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.CheckModel(m.Encoder(RoleIdentity), nil)
	if err == nil || !strings.Contains(err.Error(), "models.yaml:7: encoders[0].sha256:") {
		t.Fatalf("hash mismatch error = %v", err)
	}
	_, err = m.CheckModel(m.Encoder(RoleIQA), nil)
	if err == nil || !strings.Contains(err.Error(), "encoders[4].path: cannot read model") {
		t.Fatalf("missing file error = %v", err)
	}
}

func TestCalibrate(t *testing.T) {
	c := &Calibration{Lo: 0.2, Hi: 0.6}
	for _, x := range []struct{ in, want float64 }{{0.1, 0}, {0.2, 0}, {0.4, 0.5}, {0.6, 1}, {0.9, 1}} {
		if got := c.Calibrate(x.in); got < x.want-1e-12 || got > x.want+1e-12 {
			t.Errorf("Calibrate(%v) = %v, want %v", x.in, got, x.want)
		}
	}
	var none *Calibration
	if none.Calibrate(1.5) != 1 || none.Calibrate(-0.5) != 0 {
		t.Error("nil calibration must clamp to [0, 1]")
	}
}
