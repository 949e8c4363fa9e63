package charis

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldError is invalid input a user can find: the file, the line (0 when unknown), the
// field path (such as encoders[1].preprocess.crop) and what is wrong with it.
type FieldError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// YAMLDoc is a parsed YAML file that remembers the line of every field path, so errors
// found after decoding can still name their line.
type YAMLDoc struct {
	file   string
	lines  map[string]int    // "encoders[1].preprocess.crop" -> line
	values map[string]string // the same paths -> the text of scalar values
}

// ParseYAML decodes data into v, rejecting unknown fields, and records field lines.
// Syntax and type errors come back as *FieldError.
func ParseYAML(file string, data []byte, v any) (*YAMLDoc, error) {
	doc := &YAMLDoc{file: file, lines: map[string]int{}, values: map[string]string{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, err)
	}
	if len(root.Content) == 0 {
		return nil, &FieldError{File: file, Msg: "file is empty"}
	}
	if top := root.Content[0]; top.Kind != yaml.MappingNode {
		return nil, &FieldError{File: file, Line: top.Line, Msg: fmt.Sprintf("want a mapping of fields (key: value), got %s", nodeKind(top))}
	}
	doc.record("", root.Content[0])
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return nil, doc.named(yamlError(file, err))
	}
	return doc, nil
}

func (d *YAMLDoc) record(path string, n *yaml.Node) {
	d.lines[path] = n.Line
	switch n.Kind {
	case yaml.ScalarNode:
		d.values[path] = n.Value
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if path != "" {
				key = path + "." + key
			}
			d.lines[key] = n.Content[i].Line
			d.record(key, n.Content[i+1])
			d.lines[key] = n.Content[i].Line // the key's line names the field best
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			d.record(fmt.Sprintf("%s[%d]", path, i), c)
		}
	}
}

// named gives a decoding error the field at its line, so "cannot unmarshal !!float into
// int" says which setting is wrong, not only where. A flow mapping puts several fields on
// one line: the value the message quotes picks among them, and an error stays unnamed
// rather than naming a wrong field.
func (d *YAMLDoc) named(err error) error {
	fe, ok := err.(*FieldError)
	if !ok || fe.Line == 0 || fe.Field != "" || !strings.HasPrefix(fe.Msg, "cannot unmarshal") {
		return err // the other messages name their key themselves
	}
	var at []string
	for p, l := range d.lines {
		if l == fe.Line && p != "" {
			if _, scalar := d.values[p]; scalar {
				at = append(at, p)
			}
		}
	}
	if len(at) > 1 {
		if q := quotedValueRE.FindStringSubmatch(fe.Msg); q != nil {
			at = slices.DeleteFunc(at, func(p string) bool { return !strings.HasPrefix(d.values[p], q[1]) })
		}
	}
	if len(at) == 1 {
		fe.Field = at[0]
	}
	return fe
}

// quotedValueRE finds the value a YAML type error quotes, "..." marking a cut.
var quotedValueRE = regexp.MustCompile("`([^`]*?)(?:\\.\\.\\.)?`")

// Errorf builds a FieldError for a field path (such as "grid.axes.rank"), at the line of
// the nearest recorded ancestor when the field itself is absent from the file.
func (d *YAMLDoc) Errorf(field, format string, args ...any) *FieldError {
	return &FieldError{File: d.file, Line: d.line(field), Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (d *YAMLDoc) line(field string) int {
	for p := field; ; {
		if l, ok := d.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return d.lines[""]
		}
		p = p[:i]
	}
}

// nodeKind names a node's kind as a user reads YAML.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "another kind of node"
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns the YAML library's messages ("yaml: line 3: ...", or a list of
// "line 5: field x not found in type ...") into FieldErrors naming the file.
func yamlError(file string, err error) error {
	msgs := []string{err.Error()}
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	}
	var out []string
	first := &FieldError{File: file}
	for i, m := range msgs {
		fe := &FieldError{File: file, Msg: strings.TrimPrefix(m, "yaml: ")}
		if g := yamlLineRE.FindStringSubmatch(m); g != nil {
			fe.Line, _ = strconv.Atoi(g[1])
			fe.Msg = cleanTypeNames(g[2])
		}
		if i == 0 {
			first = fe
		}
		out = append(out, fe.Error())
	}
	if len(out) > 1 {
		first.Msg += fmt.Sprintf(" (and %d more: %s)", len(out)-1, strings.Join(out[1:], "; "))
	}
	return first
}

var typeNameRE = regexp.MustCompile(`in type \w+\.\w+`)

// cleanTypeNames drops Go type names from YAML messages: a user knows fields, not types.
func cleanTypeNames(s string) string {
	return strings.TrimSpace(typeNameRE.ReplaceAllString(s, ""))
}
