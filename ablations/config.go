// Package ablations runs `charisbench run ablations.yaml`: it expands the grid of variants,
// drives each through train, generate, score and report, keys every artefact by its inputs
// so a rerun skips what is done, and lays out the paper's tables. It imports generators,
// metrics and reports; nothing imports it but the command.
package ablations

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/readfile"
	"github.com/charisbench/charisbench/charis/world"
	"github.com/charisbench/charisbench/generators/flowdit"
)

// File is a parsed, validated ablations.yaml (docs/ablations.md).
type File struct {
	Version    int            `yaml:"version"`
	Name       string         `yaml:"name"`
	Out        string         `yaml:"out"` // run folder, relative to the file; default runs/NAME
	Benchmark  Benchmark      `yaml:"benchmark"`
	Models     string         `yaml:"models"` // "world" (charis-world's encoders) or a models.yaml
	Metric     string         `yaml:"metric"` // metric config YAML; empty: the defaults
	Generators []Generator    `yaml:"generators"`
	Grid       *Grid          `yaml:"grid"`
	Variants   []VariantEntry `yaml:"variants"`

	path string
	doc  *charis.YAMLDoc
}

// Benchmark is the samples to generate for: a manifest, or a charis-world build.
type Benchmark struct {
	Manifest string     `yaml:"manifest"`
	World    *WorldSpec `yaml:"world"`
}

// WorldSpec is a charis-world benchmark to build.
type WorldSpec struct {
	Subjects          int    `yaml:"subjects"`
	PromptsPerSubject int    `yaml:"prompts_per_subject"`
	Seed              uint64 `yaml:"seed"`
	Size              int    `yaml:"size"`
}

// Generator kinds.
const (
	KindFlowdit = "flowdit" // the built-in generator: LoRA fine-tuning of a base checkpoint
	KindExec    = "exec"    // an external program speaking the JSON-lines protocol
	KindDir     = "dir"     // precomputed images, DIR/ID.png
)

// Generator declares a source of generated images.
type Generator struct {
	Name     string           `yaml:"name"`
	Kind     string           `yaml:"type"`
	Base     string           `yaml:"base"`     // flowdit: base checkpoint
	Settings map[string]Value `yaml:"settings"` // flowdit, exec: defaults for every variant
	Command  []string         `yaml:"command"`  // exec
	Path     string           `yaml:"path"`     // dir: DIR/ID.png; "{variant}" in it is the variant's name
	// exec only:
	Protocol         int    `yaml:"protocol"`           // 1 (default, generate only) or 2 (handshake, train, settings, seeds)
	SamplesPerPrompt int    `yaml:"samples_per_prompt"` // images per benchmark row, seeds seed..seed+n−1 (version 2); default 1
	TrainData        string `yaml:"train_data"`         // training manifest for the train request; default: a charis-world train split
	SampleTimeout    string `yaml:"sample_timeout"`     // silence allowed while an answer is owed (Go duration; default 30m)
	StageTimeout     string `yaml:"stage_timeout"`      // a whole train or generate stage (default: none)
}

// Value is a setting's value as the YAML file typed it: 8 is an integer, "8" a string
// (which a key of a numeric type still reads), 1e-3 a float, true a boolean.
type Value struct {
	Text string // as written
	Tag  string // YAML tag: !!int, !!float, !!bool, !!str
}

// UnmarshalYAML takes a scalar.
func (v *Value) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a setting is a single value (a number, a word or true/false)", n.Line)
	}
	v.Text, v.Tag = n.Value, n.ShortTag()
	return nil
}

// Typed is the value as JSON carries it to an external program: a known key's type
// (rank is an integer, whether written 8 or "8"), else the YAML type.
func (v Value) Typed(key string) any {
	kind := settingKinds[key]
	if kind == "" {
		kind = v.Tag
	}
	switch kind {
	case "!!int":
		if n, err := strconv.ParseInt(v.Text, 10, 64); err == nil {
			return n
		}
	case "!!float":
		if f, err := strconv.ParseFloat(v.Text, 64); err == nil {
			return f
		}
	case "!!bool":
		if b, err := strconv.ParseBool(v.Text); err == nil {
			return b
		}
	}
	return v.Text
}

// Grid is a cartesian product of settings for one generator.
type Grid struct {
	Generator string             `yaml:"generator"`
	Axes      map[string][]Value `yaml:"axes"`
}

// VariantEntry is one explicit variant.
type VariantEntry struct {
	Name      string           `yaml:"name"`
	Generator string           `yaml:"generator"`
	Set       map[string]Value `yaml:"set"`
}

// Variant is one fully resolved point of the ablation.
type Variant struct {
	Name      string
	Generator *Generator
	Settings  Settings         // the known keys, resolved over the defaults
	Raw       map[string]Value // every key set for the variant (generator's, then its own), as written
}

// Typed returns the variant's settings as an external program receives them: the known
// keys resolved over the defaults, then every key set in the file, typed.
func (v Variant) Typed() map[string]any {
	s := v.Settings
	layers := make([]string, len(s.LoRALayers))
	for i, l := range s.LoRALayers {
		layers[i] = string(l)
	}
	out := map[string]any{"loss": string(s.Loss), "lora_layers": strings.Join(layers, "+"), "rank": s.Rank, "alpha": s.Alpha,
		"steps": s.Steps, "batch": s.Batch, "lr": s.LearningRate, "seed": s.Seed, "sample_steps": s.SampleSteps, "guidance": s.Guidance}
	for k, val := range v.Raw {
		if _, known := settingKeys[k]; !known {
			out[k] = val.Typed(k)
		}
	}
	return out
}

// Settings are a flowdit variant's resolved settings.
type Settings struct {
	Loss         flowdit.LossMode
	LoRALayers   []flowdit.LayerSet
	Rank         int
	Alpha        float64
	Steps        int
	Batch        int
	LearningRate float64
	Seed         uint64
	SampleSteps  int
	Guidance     float64
}

// DefaultSettings are flowdit's defaults for a variant.
var DefaultSettings = Settings{Loss: flowdit.Masked, LoRALayers: []flowdit.LayerSet{flowdit.Attn, flowdit.FFN},
	Rank: 8, Alpha: 8, Steps: 300, Batch: 8, LearningRate: 1e-3, Seed: 1, SampleSteps: 20, Guidance: 1}

// settingKinds are the YAML types of the known keys, for external programs.
var settingKinds = map[string]string{"loss": "!!str", "lora_layers": "!!str", "rank": "!!int", "steps": "!!int",
	"batch": "!!int", "sample_steps": "!!int", "seed": "!!int", "alpha": "!!float", "lr": "!!float", "guidance": "!!float"}

// settingKeys are the keys an override may name, each parsed to its type.
var settingKeys = map[string]func(s *Settings, v string) error{
	"loss": func(s *Settings, v string) error {
		if v != string(flowdit.Masked) && v != string(flowdit.Full) {
			return fmt.Errorf("unknown loss %q (want masked or full)", v)
		}
		s.Loss = flowdit.LossMode(v)
		return nil
	},
	"lora_layers":  func(s *Settings, v string) (err error) { s.LoRALayers, err = flowdit.ParseLayerSets(v); return },
	"rank":         intSetting(func(s *Settings) *int { return &s.Rank }, 1),
	"steps":        intSetting(func(s *Settings) *int { return &s.Steps }, 1),
	"batch":        intSetting(func(s *Settings) *int { return &s.Batch }, 1),
	"sample_steps": intSetting(func(s *Settings) *int { return &s.SampleSteps }, 1),
	"alpha":        floatSetting(func(s *Settings) *float64 { return &s.Alpha }),
	"lr":           floatSetting(func(s *Settings) *float64 { return &s.LearningRate }),
	"guidance":     floatSetting(func(s *Settings) *float64 { return &s.Guidance }),
	"seed": func(s *Settings, v string) error {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return fmt.Errorf("want a non-negative integer, got %q", v)
		}
		s.Seed = n
		return nil
	},
}

func intSetting(field func(*Settings) *int, minimum int) func(*Settings, string) error {
	return func(s *Settings, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < minimum {
			return fmt.Errorf("want an integer of at least %d, got %q", minimum, v)
		}
		*field(s) = n
		return nil
	}
}

func floatSetting(field func(*Settings) *float64) func(*Settings, string) error {
	return func(s *Settings, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) {
			return fmt.Errorf("want a positive number, got %q", v)
		}
		*field(s) = f
		return nil
	}
}

func knownKeys() string {
	keys := make([]string, 0, len(settingKeys))
	for k := range settingKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// Load reads and validates an ablations file. Errors name the file, line and field.
func Load(path string) (*File, error) {
	data, err := readfile.Read("ablations file", path, readfile.MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	f := &File{path: path}
	if f.doc, err = charis.ParseYAML(path, data, f); err != nil {
		return nil, err
	}
	return f, f.validate()
}

// Path is the file itself; Resolve makes a path in it absolute.
func (f *File) Path() string { return f.path }

// Resolve interprets a path of the file relative to its folder.
func (f *File) Resolve(p string) string { return charis.Resolve(f.path, p) }

// OutDir is the run folder.
func (f *File) OutDir() string {
	if f.Out != "" {
		return f.Resolve(f.Out)
	}
	return f.Resolve(filepath.Join("runs", f.Name))
}

func (f *File) validate() error {
	d := f.doc
	switch {
	case f.Version != 1:
		return d.Errorf("version", "unsupported version %d (want 1)", f.Version)
	case f.Name == "" || strings.ContainsAny(f.Name, `/\ `):
		return d.Errorf("name", "want a name without spaces or slashes, got %q", f.Name)
	case (f.Benchmark.Manifest == "") == (f.Benchmark.World == nil):
		return d.Errorf("benchmark", "give exactly one of manifest or world")
	case f.Models == "":
		return d.Errorf("models", `missing: "world" or a models.yaml`)
	case len(f.Generators) == 0:
		return d.Errorf("generators", "declare at least one generator")
	case f.Grid == nil && len(f.Variants) == 0:
		return d.Errorf("variants", "give a grid, variants, or both")
	}
	if w := f.Benchmark.World; w != nil {
		opt := world.BuildOptions{Subjects: w.Subjects, PromptsPerSubject: w.PromptsPerSubject, Seed: w.Seed, Size: w.Size}
		if err := opt.Check(); err != nil {
			return d.Errorf("benchmark.world", "%v", err)
		}
	}
	names := map[string]bool{}
	for i := range f.Generators {
		g := &f.Generators[i]
		field := fmt.Sprintf("generators[%d]", i)
		if g.Name == "" || names[g.Name] {
			return d.Errorf(field+".name", "missing or repeated generator name %q", g.Name)
		}
		names[g.Name] = true
		switch g.Kind {
		case KindFlowdit:
			if g.Base == "" {
				return d.Errorf(field+".base", "missing: the base checkpoint to fine-tune")
			}
			for k, v := range g.Settings {
				if err := applySetting(&Settings{}, k, v.Text); err != nil {
					return d.Errorf(field+".settings."+k, "%v", err)
				}
			}
		case KindExec:
			if err := f.validateExec(g, field); err != nil {
				return err
			}
		case KindDir:
			if g.Path == "" {
				return d.Errorf(field+".path", "missing: the folder of ID.png images")
			}
		default:
			return d.Errorf(field+".type", "unknown generator type %q (want flowdit, exec, dir)", g.Kind)
		}
	}
	_, err := f.Expand()
	return err
}

// validateExec checks an exec generator's fields. Its settings may name keys charisbench
// does not know (the program validates those); the known ones must parse to their type.
func (f *File) validateExec(g *Generator, field string) error {
	d := f.doc
	if len(g.Command) == 0 {
		return d.Errorf(field+".command", "missing: the program and its arguments")
	}
	if g.Protocol == 0 {
		g.Protocol = 1
	}
	if g.SamplesPerPrompt == 0 {
		g.SamplesPerPrompt = 1
	}
	switch {
	case g.Protocol != 1 && g.Protocol != 2:
		return d.Errorf(field+".protocol", "unknown exec protocol %d (want 1 or 2)", g.Protocol)
	case g.SamplesPerPrompt < 1:
		return d.Errorf(field+".samples_per_prompt", "must be at least 1, got %d", g.SamplesPerPrompt)
	case g.Protocol == 1 && (g.SamplesPerPrompt > 1 || len(g.Settings) > 0 || g.TrainData != ""):
		return d.Errorf(field+".protocol", "settings, samples_per_prompt and train_data need protocol: 2")
	}
	for _, t := range []struct{ name, v string }{{"sample_timeout", g.SampleTimeout}, {"stage_timeout", g.StageTimeout}} {
		if t.v == "" {
			continue
		}
		if dur, err := time.ParseDuration(t.v); err != nil || dur <= 0 {
			return d.Errorf(field+"."+t.name, "want a positive duration such as 90s or 2h, got %q", t.v)
		}
	}
	for k, v := range g.Settings {
		if err := checkSetting(k, v); err != nil {
			return d.Errorf(field+".settings."+k, "%v", err)
		}
	}
	return nil
}

// checkSetting parses a known key to its type; unknown keys pass (exec programs validate them).
func checkSetting(key string, v Value) error {
	if _, known := settingKeys[key]; !known {
		return nil
	}
	return applySetting(&Settings{}, key, v.Text)
}

// takesSettings reports whether a generator's variants may set keys.
func (g *Generator) takesSettings() bool {
	return g.Kind == KindFlowdit || (g.Kind == KindExec && g.Protocol == 2)
}

func applySetting(s *Settings, key, value string) error {
	set, ok := settingKeys[key]
	if !ok {
		return fmt.Errorf("unknown setting %q (want %s)", key, knownKeys())
	}
	return set(s, value)
}

// generator finds a declared generator by name.
func (f *File) generator(name string) *Generator {
	for i := range f.Generators {
		if f.Generators[i].Name == name {
			return &f.Generators[i]
		}
	}
	return nil
}

// MaxGridVariants bounds a grid's cartesian product: each variant is a training and a
// generation, so a product past it is a mistake (or an alias bomb), not a plan.
const MaxGridVariants = 1000

// Expand lists every variant: the grid's cartesian product (named key=value,... in key
// order) followed by the explicit variants, each with its settings resolved over the
// defaults and its generator's settings. Names are unique.
func (f *File) Expand() ([]Variant, error) {
	d := f.doc
	var out []Variant
	seen := map[string]bool{}
	add := func(field string, v Variant) error {
		if seen[v.Name] {
			return d.Errorf(field, "variant %q is defined twice", v.Name)
		}
		seen[v.Name] = true
		out = append(out, v)
		return nil
	}
	// resolve applies the generator's settings, then the variant's, over the defaults; an
	// exec generator's unknown keys are kept in raw only.
	resolve := func(field string, g *Generator, set map[string]Value, keyOrder []string) (Settings, map[string]Value, error) {
		s := DefaultSettings
		s.LoRALayers = slices.Clone(s.LoRALayers)
		raw := map[string]Value{}
		apply := func(k string, v Value) error {
			raw[k] = v
			if _, known := settingKeys[k]; !known && g.Kind == KindExec {
				return nil
			}
			return applySetting(&s, k, v.Text)
		}
		for _, k := range slices.Sorted(maps.Keys(g.Settings)) {
			if err := apply(k, g.Settings[k]); err != nil {
				return s, nil, err
			}
		}
		for _, k := range keyOrder {
			if err := apply(k, set[k]); err != nil {
				return s, nil, d.Errorf(field+"."+k, "%v", err)
			}
		}
		return s, raw, nil
	}
	if gr := f.Grid; gr != nil {
		g := f.generator(gr.Generator)
		if g == nil {
			return nil, d.Errorf("grid.generator", "unknown generator %q", gr.Generator)
		}
		if len(gr.Axes) == 0 {
			return nil, d.Errorf("grid.axes", "no axes")
		}
		keys := slices.Sorted(maps.Keys(gr.Axes))
		for _, k := range keys {
			if len(gr.Axes[k]) == 0 {
				return nil, d.Errorf("grid.axes."+k, "no values")
			}
			if !g.takesSettings() {
				return nil, d.Errorf("grid.axes."+k, "generator %s (%s) takes no settings", g.Name, g.Kind)
			}
		}
		n := 1
		for _, k := range keys {
			n *= len(gr.Axes[k])
			if n > MaxGridVariants {
				return nil, d.Errorf("grid.axes", "the axes make more than %d variants (each one trains and generates); split the grid into several files or runs", MaxGridVariants)
			}
		}
		for _, point := range product(keys, gr.Axes) {
			var parts []string
			for _, k := range keys {
				parts = append(parts, k+"="+point[k].Text)
			}
			s, raw, err := resolve("grid.axes", g, point, keys)
			if err != nil {
				return nil, err
			}
			if err := add("grid", Variant{Name: strings.Join(parts, ","), Generator: g, Settings: s, Raw: raw}); err != nil {
				return nil, err
			}
		}
	}
	for i, e := range f.Variants {
		field := fmt.Sprintf("variants[%d]", i)
		g := f.generator(e.Generator)
		if g == nil {
			return nil, d.Errorf(field+".generator", "unknown generator %q", e.Generator)
		}
		if e.Name == "" || strings.ContainsAny(e.Name, `/\`) {
			return nil, d.Errorf(field+".name", "want a name without slashes, got %q", e.Name)
		}
		if len(e.Set) > 0 && !g.takesSettings() {
			return nil, d.Errorf(field+".set", "generator %s (%s) takes no settings", g.Name, g.Kind)
		}
		s, raw, err := resolve(field+".set", g, e.Set, slices.Sorted(maps.Keys(e.Set)))
		if err != nil {
			return nil, err
		}
		if err := add(field+".name", Variant{Name: e.Name, Generator: g, Settings: s, Raw: raw}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// product enumerates the cartesian product of the axes, the last key varying fastest.
func product(keys []string, axes map[string][]Value) []map[string]Value {
	points := []map[string]Value{{}}
	for _, k := range keys {
		var next []map[string]Value
		for _, p := range points {
			for _, v := range axes[k] {
				q := map[string]Value{k: v}
				for pk, pv := range p {
					q[pk] = pv
				}
				next = append(next, q)
			}
		}
		points = next
	}
	return points
}
