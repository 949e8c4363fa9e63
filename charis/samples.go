package charis

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/charisbench/charisbench/charis/readfile"
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
	// Class is the subject's class ("dog", "backpack", "character"): which type of the
	// judge's knowledge base its identity is checked against. Optional.
	Class string `json:"class,omitempty"`
	// World holds charis-world ground truth (identity, transformations, perturbation)
	// when the sample comes from `charisbench world build`.
	World json.RawMessage `json:"world,omitempty"`

	// badText: its manifest line was not valid UTF-8 (JSON decoding would hide that), or its
	// text holds U+FFFD, which is what writing such a line leaves: a manifest written from
	// one read keeps the sample an error instead of scoring replacement characters.
	badText bool
}

func (s *Sample) hasReplacement() bool {
	for _, f := range []string{s.ID, s.Subject, s.Variant, s.Reference, s.Prompt, s.Generated, s.ReferenceMask, s.GeneratedMask, s.Class} {
		if strings.ContainsRune(f, utf8.RuneError) {
			return true
		}
	}
	return false
}

// ValidText reports whether the sample's text came from valid UTF-8.
func (s *Sample) ValidText() bool { return !s.badText && utf8.ValidString(s.Prompt) }

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

// ReadManifest reads a sample manifest: CSV when the name ends in .csv, JSON lines
// otherwise.
func ReadManifest(path string) ([]Sample, error) {
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return ReadSamplesCSV(path)
	}
	return ReadSamples(path)
}

// ReadSamplesCSV reads a CSV manifest whose header names the columns: id, subject,
// variant, reference, generated (required), prompt, reference_mask, generated_mask.
func ReadSamplesCSV(path string) ([]Sample, error) {
	f, err := readfile.Open("sample manifest", path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, &FieldError{File: path, Line: 1, Msg: "no CSV header: " + err.Error()}
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	for _, req := range []string{"id", "subject", "variant", "reference", "generated"} {
		if _, ok := col[req]; !ok {
			return nil, &FieldError{File: path, Line: 1, Field: req, Msg: "missing column"}
		}
	}
	var rows []Sample
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil { // FieldPos has no record to point into: the parse error knows its line
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return nil, &FieldError{File: path, Line: line, Msg: err.Error()}
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		rows = append(rows, Sample{ID: get("id"), Subject: get("subject"), Variant: get("variant"),
			Reference: get("reference"), Prompt: get("prompt"), Generated: get("generated"),
			ReferenceMask: get("reference_mask"), GeneratedMask: get("generated_mask")})
	}
	return rows, checkSamples(path, rows, nil)
}

// ReadSamples reads a JSON-lines sample manifest. Every row needs id, subject, variant,
// reference, prompt and generated; ids are unique. Errors name the file and line.
func ReadSamples(path string) ([]Sample, error) {
	f, err := readfile.Open("sample manifest", path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Sample
	var lines []int
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
		s.badText = !utf8.Valid(text) || s.hasReplacement()
		out = append(out, s)
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, checkSamples(path, out, lines)
}

// checkSamples requires the identifying fields and unique ids; lines gives each row's
// line (nil: row i is on line i+2, after a CSV header).
func checkSamples(path string, rows []Sample, lines []int) error {
	if len(rows) == 0 {
		return &FieldError{File: path, Msg: "no samples"}
	}
	seen := map[string]int{}
	for i, s := range rows {
		line := i + 2
		if lines != nil {
			line = lines[i]
		}
		for _, req := range []struct{ name, v string }{
			{"id", s.ID}, {"subject", s.Subject}, {"variant", s.Variant},
			{"reference", s.Reference}, {"generated", s.Generated},
		} {
			if req.v == "" {
				return &FieldError{File: path, Line: line, Field: req.name, Msg: "missing"}
			}
		}
		if prev, dup := seen[s.ID]; dup {
			return &FieldError{File: path, Line: line, Field: "id", Msg: fmt.Sprintf("%q already used on line %d", s.ID, prev)}
		}
		seen[s.ID] = line
	}
	return nil
}

// RelTo expresses path relative to dir when it can (for a manifest written in dir),
// absolute otherwise.
func RelTo(dir, path string) string {
	ad, err1 := filepath.Abs(dir)
	ap, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return path
	}
	if r, err := filepath.Rel(ad, ap); err == nil {
		return r
	}
	return ap
}

// Resolve returns a manifest path relative to the manifest's folder (absolute paths stay).
func Resolve(manifest, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(manifest), p)
}

// ResolveAbs is Resolve made absolute, for a manifest written elsewhere that must still find
// the files ("" stays ""; p as resolved where the working folder cannot be read).
func ResolveAbs(manifest, p string) string {
	if p == "" {
		return ""
	}
	a, err := filepath.Abs(Resolve(manifest, p))
	if err != nil {
		return Resolve(manifest, p)
	}
	return a
}

// ReadSampleFile reads a file a manifest row names (rel, resolved against the manifest;
// field names it in errors). Only a regular file of at most maxBytes is opened: a device
// (/dev/zero), a FIFO or a socket would read without end or block for good, so it is an
// error before any read.
func ReadSampleFile(manifest, field, rel string, maxBytes int64) ([]byte, error) {
	path := Resolve(manifest, rel)
	st, why := readfile.Stat(path)
	switch {
	case why != nil:
		return nil, fmt.Errorf("%s: %s%w", field, rel, why)
	case st.Size() > maxBytes:
		return nil, fmt.Errorf("%s: %s is %d bytes, over the limit of %d (--max-file-mb)", field, rel, st.Size(), maxBytes)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", field, rel, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1)) // the file may grow after Stat
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", field, rel, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%s: %s grew over the limit of %d bytes while being read", field, rel, maxBytes)
	}
	return data, nil
}
