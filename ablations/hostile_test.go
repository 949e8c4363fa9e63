package ablations

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
)

// gridBomb is a seven-axis grid whose axes are one alias: 20^7 = 1.28e9 variants from 17
// lines, which expanded for ever before the grid's size was bounded.
const gridBomb = `version: 1
name: x
models: world
benchmark:
  world: {subjects: 1, prompts_per_subject: 1}
generators:
  - {name: g, type: flowdit, base: b}
grid:
  generator: g
  axes:
    rank: &r [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
    steps: *r
    batch: *r
    sample_steps: *r
    seed: *r
    alpha: *r
    lr: *r
`

// TestHostileYAML: documents of a wrong type, duplicate keys, huge and negative numbers,
// duplicate variant names and alias bombs are each refused with the file, line and field.
func TestHostileYAML(t *testing.T) {
	set := func(s string) string { return strings.Replace(example, `steps: "50"`, s, 1) }
	world := func(s string) string { return strings.Replace(example, "seed: 1}", "seed: 1, "+s+"}", 1) }
	cases := []struct{ name, text, want string }{
		{"grid alias bomb", gridBomb, `:10: grid.axes: the axes make more than 1000 variants`},
		{"list document", "- a\n- b\n", ":1: want a mapping of fields (key: value), got a list"},
		{"scalar document", "hello\n", `:1: want a mapping of fields (key: value), got the value "hello"`},
		{"empty document", "", ": file is empty"},
		{"duplicate key", strings.Replace(example, "models: world\n", "models: world\nmodels: other\n", 1), `:6: mapping key "models" already defined at line 5`},
		{"duplicate variant", example + "  - name: baseline\n    generator: other\n", `:22: variants[1].name: variant "baseline" is defined twice`},
		{"subjects past int", strings.Replace(example, "subjects: 4", "subjects: 99999999999999999999999", 1), ":4: benchmark.world.subjects: cannot unmarshal"},
		{"subjects as float", strings.Replace(example, "subjects: 4", "subjects: 1e300", 1), ":4: benchmark.world.subjects: cannot unmarshal !!float `1e300`"},
		{"negative subjects", strings.Replace(example, "subjects: 4", "subjects: -4", 1), ":4: benchmark.world: subjects must be positive, got -4"},
		{"a billion prompts", strings.Replace(example, "prompts_per_subject: 2", "prompts_per_subject: 2000000000", 1), ":4: benchmark.world: subjects x prompts per subject must be at most 1000000"},
		{"negative size", world("size: -64"), ":4: benchmark.world: size must be in [16, 1024], got -64"},
		{"huge size", world("size: 1000000000"), ":4: benchmark.world: size must be in [16, 1024], got 1000000000"},
		{"negative seed", strings.Replace(example, "seed: 1}", "seed: -1}", 1), ":4: benchmark.world.seed: cannot unmarshal"},
		{"negative steps", set(`steps: "-50"`), `:10: generators[0].settings.steps: want an integer of at least 1, got "-50"`},
		{"steps past int", set(`steps: 99999999999999999999`), `:10: generators[0].settings.steps: want an integer of at least 1`},
		{"negative training seed", set(`seed: -1`), `:10: generators[0].settings.seed: want a non-negative integer, got "-1"`},
		{"NaN lr", set(`lr: .nan`), `:10: generators[0].settings.lr: want a positive number, got ".nan"`},
		{"infinite lr", set(`lr: 1e999`), `:10: generators[0].settings.lr: want a positive number, got "1e999"`},
		{"negative lr", set(`lr: -1`), `:10: generators[0].settings.lr: want a positive number, got "-1"`},
		{"unknown key", strings.Replace(example, "models: world\n", "models: world\nmodel: other\n", 1), ":6: field model not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := write(t, c.text)
			f, err := Load(path)
			if err == nil {
				_, err = f.Expand()
			}
			if err == nil {
				t.Fatalf("accepted:\n%s", c.text)
			}
			var fe *charis.FieldError
			if !errors.As(err, &fe) || fe.File != path {
				t.Fatalf("error %T %v, want a *charis.FieldError naming %s", err, err, path)
			}
			if got := strings.TrimPrefix(err.Error(), path); !strings.HasPrefix(got, c.want) {
				t.Fatalf("error\n  %s\nwant prefix\n  %s%s", err, filepath.Base(path), c.want)
			}
		})
	}
}
