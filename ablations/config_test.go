package ablations

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/generators/flowdit"
)

const example = `version: 1
name: demo
benchmark:
  world: {subjects: 4, prompts_per_subject: 2, seed: 1}
models: world
generators:
  - name: flowdit
    type: flowdit
    base: base-ckpt
    settings: {steps: "50"}
  - name: other
    type: dir
    path: precomputed
grid:
  generator: flowdit
  axes:
    loss: [masked, full]
    lora_layers: [attn, attn+ffn, attn+ffn+modulation]
variants:
  - name: baseline
    generator: other
`

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ablations.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGridExpansion(t *testing.T) {
	f, err := Load(write(t, example))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := f.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	want := []string{
		"lora_layers=attn,loss=masked", "lora_layers=attn,loss=full",
		"lora_layers=attn+ffn,loss=masked", "lora_layers=attn+ffn,loss=full",
		"lora_layers=attn+ffn+modulation,loss=masked", "lora_layers=attn+ffn+modulation,loss=full",
		"baseline",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("variants\n %q\nwant\n %q", names, want)
	}
	v := vs[3]
	if v.Settings.Loss != flowdit.Full || !slices.Equal(v.Settings.LoRALayers, []flowdit.LayerSet{flowdit.Attn, flowdit.FFN}) ||
		v.Settings.Steps != 50 || v.Settings.Rank != DefaultSettings.Rank {
		t.Fatalf("settings %+v (generator default steps 50, rank default)", v.Settings)
	}
	if vs[6].Generator.Kind != KindDir {
		t.Fatalf("explicit variant generator %+v", vs[6].Generator)
	}
}

// TestErrorsNameTheLine: every mistake names the file, its line and the field.
func TestErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct{ old, new, want string }{
		{"lora_layers: [attn, attn+ffn, attn+ffn+modulation]", "lora_layers: [attn, mlp]", `ablations.yaml:18: grid.axes.lora_layers: unknown layer set "mlp"`},
		{"loss: [masked, full]", "los: [masked, full]", `ablations.yaml:17: grid.axes.los: unknown setting "los"`},
		{`settings: {steps: "50"}`, `settings: {steps: "many"}`, `ablations.yaml:10: generators[0].settings.steps: want an integer`},
		{"type: dir", "type: folder", `ablations.yaml:12: generators[1].type: unknown generator type "folder"`},
		{"    generator: other\n", "    generator: nobody\n", `ablations.yaml:21: variants[0].generator: unknown generator "nobody"`},
		{"models: world\n", "", `ablations.yaml:1: models: missing`},
		{"version: 1", "version: 3", `ablations.yaml:1: version: unsupported`},
		{"  - name: baseline", "  - name: lora_layers=attn,loss=full", `ablations.yaml:20: variants[0].name: variant "lora_layers=attn,loss=full" is defined twice`},
		{"name: demo", "name: my demo", `ablations.yaml:2: name: want a name`},
		{"grid:", "gird:", `ablations.yaml:14: field gird not found`},
	} {
		text := strings.Replace(example, c.old, c.new, 1)
		if text == example {
			t.Fatalf("replacement %q not found", c.old)
		}
		_, err := Load(write(t, text))
		if err == nil {
			t.Errorf("accepted: %s -> %s", c.old, c.new)
			continue
		}
		if got := err.Error(); !strings.Contains(got, c.want) {
			t.Errorf("error\n  %s\nwant it to contain\n  %s", got, c.want)
		}
	}
}

const execExample = `version: 1
name: typed
benchmark:
  world: {subjects: 2, prompts_per_subject: 2, seed: 1}
models: world
generators:
  - name: torch
    type: exec
    protocol: 2
    command: [python3, gen.py]
    settings: {steps: 300, lr: 1e-4, backbone: flux-dev, ema: true, resolution: 512}
  - name: uno
    type: dir
    path: outputs/{variant}
grid:
  generator: torch
  axes:
    rank: [8, "32"]
variants:
  - name: uno-a
    generator: uno
  - name: uno-b
    generator: uno
`

// TestTypedSettings: YAML values keep their types for external programs (a quoted number
// still reads for a numeric key), unknown keys pass through, and a dir generator takes one
// folder per variant.
func TestTypedSettings(t *testing.T) {
	f, err := Load(write(t, execExample))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := f.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if vs[0].Name != "rank=8" || vs[1].Name != "rank=32" {
		t.Fatalf("variants %s, %s", vs[0].Name, vs[1].Name)
	}
	typed := vs[1].Typed() // rank written "32": an integer all the same
	for k, want := range map[string]any{"rank": 32, "steps": 300, "lr": 1e-4, "backbone": "flux-dev", "ema": true,
		"resolution": int64(512), "loss": "masked", "lora_layers": "attn+ffn"} {
		if got := typed[k]; got != want {
			t.Errorf("settings[%s] = %v (%T), want %v (%T)", k, got, got, want, want)
		}
	}
	if r := (&variantRun{f: f, v: vs[2]}); r.dirPath() != filepath.Join(filepath.Dir(f.Path()), "outputs", "uno-a") {
		t.Errorf("dir path %s", r.dirPath())
	}
	for _, c := range []struct{ old, new, want string }{
		{`rank: [8, "32"]`, `rank: [8, 2.5]`, `ablations.yaml:18: grid.axes.rank: want an integer of at least 1, got "2.5"`},
		{"protocol: 2", "protocol: 1", `generators[0].protocol: settings, samples_per_prompt and train_data need protocol: 2`},
		{"protocol: 2", "protocol: 3", `generators[0].protocol: unknown exec protocol 3`},
		{"lr: 1e-4", "lr: [1]", "a setting is a single value"},
		{"    protocol: 2\n", "    protocol: 2\n    sample_timeout: soon\n", "generators[0].sample_timeout: want a positive duration"},
	} {
		text := strings.Replace(execExample, c.old, c.new, 1)
		if _, err := Load(write(t, text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: error %v, want %q", c.old, c.new, err, c.want)
		}
	}
}
