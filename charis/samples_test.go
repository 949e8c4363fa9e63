package charis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadManifestFormats(t *testing.T) {
	dir := t.TempDir()
	jl := filepath.Join(dir, "m.jsonl")
	os.WriteFile(jl, []byte(`{"id":"a","subject":"s","variant":"v","reference":"r.png","prompt":"p","generated":"g.png"}
{"id":"b","subject":"s","variant":"v","reference":"r.png","prompt":"","generated":"g2.png"}
`), 0o644)
	cs := filepath.Join(dir, "m.csv")
	os.WriteFile(cs, []byte("id,subject,variant,reference,prompt,generated\na,s,v,r.png,p,g.png\nb,s,v,r.png,,g2.png\n"), 0o644)
	a, err := ReadManifest(jl)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadManifest(cs)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 2 || len(b) != 2 || a[0].ID != "a" || a[0].Prompt != "p" || a[0].Reference != "r.png" || b[0].Generated != a[0].Generated || b[1].Prompt != "" {
		t.Fatalf("jsonl %+v\ncsv %+v", a, b)
	}
}

func TestManifestErrorsNameLines(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, text, want string }{
		{"m.jsonl", `{"id":"a","subject":"s","variant":"v","reference":"r","generated":"g"}` + "\n" + `{"id":"a","subject":"s","variant":"v","reference":"r","generated":"g"}`, `m.jsonl:2: id: "a" already used on line 1`},
		{"m.jsonl", `{"id":"a","subject":"s","variant":"v","reference":"r"}`, "m.jsonl:1: generated: missing"},
		{"m.jsonl", `{"id":"a","colour":"x"}`, `m.jsonl:1: not a sample: json: unknown field "colour"`},
		{"m.csv", "id,subject,variant,reference\na,s,v,r\n", "m.csv:1: generated: missing column"},
		{"m.csv", "id,subject,variant,reference,generated\na,s,v,r,g\n,s,v,r,g\n", "m.csv:3: id: missing"},
		{"empty.jsonl", "\n", "empty.jsonl: no samples"},
	} {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, []byte(c.text), 0o644)
		_, err := ReadManifest(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
