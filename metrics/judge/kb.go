package judge

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/readfile"
)

// Every judgment checks these first (level type): is it still the same kind of subject,
// and is it drawn in the same style.
const (
	CheckType  = "type"
	CheckStyle = "style"
)

//go:embed kb.yaml
var defaultKB []byte

// KB is the knowledge base: per subject type, what its identity is made of.
type KB struct {
	Version int    `yaml:"version"`
	Types   []Type `yaml:"types"`
	path    string
}

// Type is one subject type of the knowledge base.
type Type struct {
	Name       string      `yaml:"name"`
	Classes    []string    `yaml:"classes"`
	Attributes []Attribute `yaml:"attributes"`
}

// Attribute is one thing a judge checks, at a level (attribute or feature).
type Attribute struct {
	Name   string `yaml:"name"`
	Level  string `yaml:"level"`
	Ask    string `yaml:"ask"`
	Colour bool   `yaml:"colour"` // a colour: a prompt licensing colour changes makes its change requested
}

// DefaultKB is the knowledge base charisbench ships (kb.yaml).
func DefaultKB() *KB {
	kb, err := parseKB(defaultKB, "built-in kb.yaml")
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return kb
}

// LoadKB reads a knowledge base file and lays it over the built-in one: its types replace
// built-in types of the same name, new ones are added.
func LoadKB(path string) (*KB, error) {
	b, err := readfile.Read("judge knowledge base", path, readfile.MaxKBBytes)
	if err != nil {
		return nil, err
	}
	user, err := parseKB(b, path)
	if err != nil {
		return nil, err
	}
	kb := DefaultKB()
	for _, t := range user.Types {
		if i := slices.IndexFunc(kb.Types, func(x Type) bool { return x.Name == t.Name }); i >= 0 {
			kb.Types[i] = t
		} else {
			kb.Types = append(kb.Types, t)
		}
	}
	kb.path = path
	return kb, nil
}

func parseKB(b []byte, path string) (*KB, error) {
	var kb KB
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&kb); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if kb.Version != 1 {
		return nil, fmt.Errorf("%s: version %d, want 1", path, kb.Version)
	}
	seen := map[string]bool{}
	for i, t := range kb.Types {
		at := fmt.Sprintf("%s: types[%d]", path, i)
		if t.Name == "" || seen[t.Name] {
			return nil, fmt.Errorf("%s: name %q is empty or repeated", at, t.Name)
		}
		seen[t.Name] = true
		if len(t.Attributes) == 0 {
			return nil, fmt.Errorf("%s (%s): no attributes", at, t.Name)
		}
		names := map[string]bool{CheckType: true, CheckStyle: true}
		for j, a := range t.Attributes {
			if a.Name == "" || names[a.Name] {
				return nil, fmt.Errorf("%s (%s): attributes[%d]: name %q is empty, repeated or reserved", at, t.Name, j, a.Name)
			}
			names[a.Name] = true
			if a.Level != charis.LevelAttribute && a.Level != charis.LevelFeature {
				return nil, fmt.Errorf("%s (%s): attributes[%d] (%s): level %q, want attribute or feature", at, t.Name, j, a.Name, a.Level)
			}
			if strings.TrimSpace(a.Ask) == "" {
				return nil, fmt.Errorf("%s (%s): attributes[%d] (%s): ask is empty", at, t.Name, j, a.Name)
			}
		}
	}
	kb.path = path
	return &kb, nil
}

// Digest identifies the knowledge base's content (its types), for cache and run keys.
func (kb *KB) Digest() string {
	b, err := json.Marshal(kb.Types)
	if err != nil {
		panic(err) // plain strings and bools
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TypeFor returns the type whose classes hold class (case-insensitive), else "object".
func (kb *KB) TypeFor(class string) (*Type, error) {
	class = strings.ToLower(strings.TrimSpace(class))
	if class == "" {
		class = "object"
	}
	for i := range kb.Types {
		for _, c := range kb.Types[i].Classes {
			if strings.ToLower(c) == class {
				return &kb.Types[i], nil
			}
		}
	}
	for i := range kb.Types {
		if kb.Types[i].Name == "object" {
			return &kb.Types[i], nil
		}
	}
	return nil, fmt.Errorf("%s: no type lists class %q and there is no \"object\" type", kb.path, class)
}

// Checks lists what a judgment of type t answers, top down: type, style, then t's
// attributes in the knowledge base's order.
func (t *Type) Checks() []Attribute {
	out := []Attribute{
		{Name: CheckType, Level: charis.LevelType, Ask: "what kind of subject it is (a " + t.Name + ")"},
		{Name: CheckStyle, Level: charis.LevelType, Ask: "how it is drawn or photographed (photo, cartoon, flat colours, sketch)"},
	}
	return append(out, t.Attributes...)
}
