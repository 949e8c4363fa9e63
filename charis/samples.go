package charis

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Sample is one row of a sample manifest (JSON lines): a reference image, a prompt, and
// the image a system generated for them. Paths are relative to the manifest's folder.
type Sample struct {
	ID            string `json:"id"`
	Subject       string `json:"subject"`
	Variant       string `json:"variant"`
	Reference     string `json:"reference"`
	Prompt        string `json:"prompt"`
	Generated     string `json:"generated"`
	ReferenceMask string `json:"reference_mask,omitempty"`
	GeneratedMask string `json:"generated_mask,omitempty"`
	// World holds charis-world ground truth (identity, transformations, perturbation)
	// when the sample comes from `charisbench world build`.
	World json.RawMessage `json:"world,omitempty"`
}

// WriteSamples writes samples as JSON lines.
func WriteSamples(w io.Writer, samples []Sample) error {
	bw := bufio.NewWriter(w)
	for i := range samples {
		line, err := json.Marshal(&samples[i])
		if err != nil {
			return err
		}
		bw.Write(line)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ReadSamples reads a JSON-lines sample manifest. Every row needs id, subject, variant,
// reference, prompt and generated; ids are unique. Errors name the file and line.
func ReadSamples(path string) ([]Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sample manifest: %w", err)
	}
	defer f.Close()
	var out []Sample
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var s Sample
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, &FieldError{File: path, Line: line, Msg: "not a sample: " + err.Error()}
		}
		for _, req := range []struct{ name, v string }{
			{"id", s.ID}, {"subject", s.Subject}, {"variant", s.Variant},
			{"reference", s.Reference}, {"generated", s.Generated},
		} {
			if req.v == "" {
				return nil, &FieldError{File: path, Line: line, Field: req.name, Msg: "missing"}
			}
		}
		if prev, dup := seen[s.ID]; dup {
			return nil, &FieldError{File: path, Line: line, Field: "id", Msg: fmt.Sprintf("%q already used on line %d", s.ID, prev)}
		}
		seen[s.ID] = line
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, &FieldError{File: path, Msg: "no samples"}
	}
	return out, nil
}

// Resolve returns a manifest path relative to the manifest's folder (absolute paths stay).
func Resolve(manifest, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(manifest), p)
}
