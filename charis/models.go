package charis

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/charisbench/charisbench/charis/clip"
	"github.com/charisbench/charisbench/charis/preprocess"
	"github.com/charisbench/charisbench/charis/readfile"
)

// Role is what an encoder does for the metric.
type Role string

// The roles a model manifest may declare, each at most once.
const (
	RoleIdentity  Role = "identity"   // DINO/DINOv2-style ViT: CLS + patch tokens
	RoleCLIPImage Role = "clip_image" // CLIP image tower: one embedding per image
	RoleCLIPText  Role = "clip_text"  // CLIP text tower: one embedding per prompt
	RoleSegmenter Role = "segmenter"  // subject mask logits
	RoleIQA       Role = "iqa"        // scalar image quality
	RoleAttrs     Role = "attributes" // the identity judge's probe: attribute heads (docs/judge.md)
)

// Roles lists the known roles in manifest order.
var Roles = []Role{RoleIdentity, RoleCLIPImage, RoleCLIPText, RoleSegmenter, RoleIQA, RoleAttrs}

// BuiltinVocab names the CLIP vocabulary compiled into charisbench.
const BuiltinVocab = "builtin"

// ModelManifest is a parsed, validated models.yaml.
type ModelManifest struct {
	Version  int           `yaml:"version"`
	Encoders []EncoderSpec `yaml:"encoders"`

	path string   // the manifest file
	doc  *YAMLDoc // field lines, for errors found after loading
}

// EncoderSpec declares one ONNX encoder.
type EncoderSpec struct {
	Name        string          `yaml:"name"`
	Role        Role            `yaml:"role"`
	Path        string          `yaml:"path"`   // relative to the manifest
	SHA256      string          `yaml:"sha256"` // of the .onnx file
	Input       string          `yaml:"input"`  // input name; empty: the model's only input
	Preprocess  *PreprocessSpec `yaml:"preprocess"`
	Text        *TextSpec       `yaml:"text"`
	Output      OutputSpec      `yaml:"output"`
	Calibration *Calibration    `yaml:"calibration"`
	Heads       []AttributeHead `yaml:"heads"` // attributes: the output's layout, in order

	index int // position in the manifest, for error paths
}

// AttributeHead is one head of an attributes model's output: a class (one logit per
// value) or an RGB colour (three values in [0, 1]).
type AttributeHead struct {
	Name   string   `yaml:"name"`
	Values []string `yaml:"values"`
	RGB    bool     `yaml:"rgb"`
}

// Width is how many output values the head takes.
func (h AttributeHead) Width() int {
	if h.RGB {
		return 3
	}
	return len(h.Values)
}

// PreprocessSpec is the image preprocessing of an image encoder, in manifest terms.
type PreprocessSpec struct {
	Resize        int       `yaml:"resize"`
	ResizeMode    string    `yaml:"resize_mode"`   // short_side (default) | square
	Crop          int       `yaml:"crop"`          // 0: none
	CropRounding  string    `yaml:"crop_rounding"` // floor (HF) | half_even (torchvision)
	Interpolation string    `yaml:"interpolation"` // bicubic | bilinear
	Rescale       *float64  `yaml:"rescale"`       // default 1/255
	Mean          []float64 `yaml:"mean"`
	Std           []float64 `yaml:"std"`
}

// TextSpec configures a text encoder's tokenizer.
type TextSpec struct {
	Vocab         string `yaml:"vocab"`        // "builtin" or a BPE merges file, relative to the manifest
	VocabSHA256   string `yaml:"vocab_sha256"` // required for a file
	ContextLength int    `yaml:"context_length"`
}

// OutputSpec selects what an encoder's output means.
type OutputSpec struct {
	Name           string `yaml:"name"`            // output name; empty: the model's first output
	CLSToken       *bool  `yaml:"cls_token"`       // identity: token 0 is CLS (default true)
	RegisterTokens int    `yaml:"register_tokens"` // identity: tokens after CLS to drop
}

// Calibration maps a raw score x to clamp((x − lo) / (hi − lo), 0, 1). On an identity
// encoder it calibrates IC, on clip_text PA, on clip_image TD's spread (version 2), on iqa
// the IQA score. Fit says how lo and hi were fitted (charisbench calibrate); nil when they
// were set by hand.
type Calibration struct {
	Lo  float64         `yaml:"lo" json:"lo"`
	Hi  float64         `yaml:"hi" json:"hi"`
	Fit *CalibrationFit `yaml:"fit,omitempty" json:"fit,omitempty"`
}

// CalibrationFit is the provenance of a fitted calibration.
type CalibrationFit struct {
	Axis       string `yaml:"axis" json:"axis"`               // ic | pa | td_spread
	Matched    int    `yaml:"matched" json:"matched"`         // pairs behind hi
	Mismatched int    `yaml:"mismatched" json:"mismatched"`   // pairs behind lo (0 for td_spread: lo = 0)
	Subjects   int    `yaml:"subjects" json:"subjects"`       // subjects in the data
	Data       string `yaml:"data" json:"data"`               // the sample manifest fitted on
	DataSHA256 string `yaml:"data_sha256" json:"data_sha256"` // its sha256
	Command    string `yaml:"command" json:"command"`         // the command that fitted it
}

// LoadModelManifest reads and validates a model manifest. Errors are *FieldError naming
// the file, line and field; files are not opened (see VerifyFile).
func LoadModelManifest(path string) (*ModelManifest, error) {
	data, err := readfile.Read("model manifest", path, readfile.MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	m := &ModelManifest{path: path}
	if m.doc, err = ParseYAML(path, data, m); err != nil {
		return nil, err
	}
	return m, m.validate()
}

// Path is the manifest's own file.
func (m *ModelManifest) Path() string { return m.path }

// Encoder returns the encoder declared for a role, or nil.
func (m *ModelManifest) Encoder(r Role) *EncoderSpec {
	for i := range m.Encoders {
		if m.Encoders[i].Role == r {
			return &m.Encoders[i]
		}
	}
	return nil
}

// ModelPath is the encoder's file, resolved against the manifest's folder.
func (m *ModelManifest) ModelPath(e *EncoderSpec) string {
	return m.resolve(e.Path)
}

func (m *ModelManifest) resolve(p string) string { return Resolve(m.path, p) }

// Errorf reports a problem with one of an encoder's fields (field relative to the
// encoder, such as "output.name"), at its line in the manifest.
func (m *ModelManifest) Errorf(e *EncoderSpec, field, format string, args ...any) error {
	return m.doc.Errorf(e.field(field), format, args...)
}

func (e *EncoderSpec) field(f string) string {
	if f == "" {
		return fmt.Sprintf("encoders[%d]", e.index)
	}
	return fmt.Sprintf("encoders[%d].%s", e.index, f)
}

// CheckModel checks the sha256 of an encoder's model file, streaming it (a model is never
// held in memory here: ONNX Runtime reads the file itself), and returns its path. scan,
// when not nil, reads the same stream as the hash (the file is read once): it may stop
// early, and its error is returned once the hash is found right. A file replaced between
// this check and the session's own read is not detected.
func (m *ModelManifest) CheckModel(e *EncoderSpec, scan func(io.Reader) error) (string, error) {
	p := m.ModelPath(e)
	f, err := readfile.Open("model", p)
	if err != nil {
		return "", m.Errorf(e, "path", "cannot read %v", err)
	}
	defer f.Close()
	h := sha256.New()
	var scanErr error
	if scan != nil {
		scanErr = scan(io.TeeReader(f, h))
	}
	if _, err := io.Copy(h, f); err != nil {
		return "", m.Errorf(e, "path", "cannot read model: %v", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
		return "", m.Errorf(e, "sha256", "%s has sha256 %s, manifest says %s", p, got, e.SHA256)
	}
	if scanErr != nil {
		return "", m.Errorf(e, "path", "%s: %v", p, scanErr)
	}
	return p, nil
}

// Tokenizer returns the CLIP tokenizer of a text encoder, checking a vocabulary file's hash.
func (m *ModelManifest) Tokenizer(e *EncoderSpec) (*clip.Tokenizer, error) {
	if e.Text == nil {
		return nil, m.Errorf(e, "text", "missing: a %s encoder needs text.vocab and text.context_length", e.Role)
	}
	if e.Text.Vocab == BuiltinVocab {
		return clip.Default()
	}
	p := m.resolve(e.Text.Vocab)
	f, err := readfile.Open("vocabulary", p)
	if err != nil {
		return nil, m.Errorf(e, "text.vocab", "cannot read %v", err)
	}
	defer f.Close()
	h := sha256.New()
	tok, err := clip.Read(io.TeeReader(f, h))
	if err != nil {
		return nil, m.Errorf(e, "text.vocab", "%s: %v", p, err)
	}
	io.Copy(h, f) // hash the whole file, also past the merges the tokenizer reads
	if got := hex.EncodeToString(h.Sum(nil)); got != e.Text.VocabSHA256 {
		return nil, m.Errorf(e, "text.vocab_sha256", "%s has sha256 %s, manifest says %s", p, got, e.Text.VocabSHA256)
	}
	return tok, nil
}

// PixelSpec converts the manifest's preprocessing to the pixel pipeline's settings.
func (e *EncoderSpec) PixelSpec() preprocess.Spec {
	p := e.Preprocess
	s := preprocess.Spec{Resize: p.Resize, Mode: preprocess.ResizeMode(p.ResizeMode), Crop: p.Crop,
		Rounding: preprocess.CropRounding(p.CropRounding), Interp: preprocess.Interp(p.Interpolation),
		Rescale: 1.0 / 255}
	if s.Mode == "" {
		s.Mode = preprocess.ShortSideMode
	}
	if p.Rescale != nil {
		s.Rescale = *p.Rescale
	}
	copy(s.Mean[:], p.Mean)
	copy(s.Std[:], p.Std)
	return s
}

// HasCLS reports whether token 0 of an identity encoder's output is a CLS token.
func (o OutputSpec) HasCLS() bool { return o.CLSToken == nil || *o.CLSToken }

// PrefixTokens is how many tokens precede the patch tokens.
func (o OutputSpec) PrefixTokens() int {
	n := o.RegisterTokens
	if o.HasCLS() {
		n++
	}
	return n
}

// Calibrate maps a raw value to [0, 1]; without calibration it clamps x itself.
func (c *Calibration) Calibrate(x float64) float64 {
	lo, hi := 0.0, 1.0
	if c != nil {
		lo, hi = c.Lo, c.Hi
	}
	return min(1, max(0, (x-lo)/(hi-lo)))
}

func (m *ModelManifest) validate() error {
	d := m.doc
	if m.Version != 1 {
		return d.Errorf("version", "unsupported manifest version %d (want 1)", m.Version)
	}
	if len(m.Encoders) == 0 {
		return d.Errorf("encoders", "no encoders declared")
	}
	seen := map[Role]int{}
	for i := range m.Encoders {
		e := &m.Encoders[i]
		e.index = i
		if e.Name == "" {
			e.Name = string(e.Role)
		}
		if !slices.Contains(Roles, e.Role) {
			return m.Errorf(e, "role", "unknown role %q (want %s)", e.Role, joinRoles())
		}
		if j, dup := seen[e.Role]; dup {
			return m.Errorf(e, "role", "role %s is already declared by encoders[%d]", e.Role, j)
		}
		seen[e.Role] = i
		if e.Path == "" {
			return m.Errorf(e, "path", "missing: the .onnx file, relative to the manifest")
		}
		if !isSHA256(e.SHA256) {
			return m.Errorf(e, "sha256", "want 64 lower-case hex digits, got %q", e.SHA256)
		}
		if err := m.validateKind(e); err != nil {
			return err
		}
		if c := e.Calibration; c != nil && !(c.Hi > c.Lo) {
			return m.Errorf(e, "calibration", "hi (%v) must be greater than lo (%v)", c.Hi, c.Lo)
		}
		if err := m.validateHeads(e); err != nil {
			return err
		}
		if e.Output.RegisterTokens < 0 {
			return m.Errorf(e, "output.register_tokens", "must be 0 or more, got %d", e.Output.RegisterTokens)
		}
	}
	return nil
}

// validateKind checks what depends on the role: text encoders tokenize, image encoders
// preprocess.
func (m *ModelManifest) validateKind(e *EncoderSpec) error {
	if e.Role == RoleCLIPText {
		if e.Preprocess != nil {
			return m.Errorf(e, "preprocess", "a text encoder takes no image preprocessing")
		}
		t := e.Text
		if t == nil {
			return m.Errorf(e, "text", "missing: a clip_text encoder needs text.vocab and text.context_length")
		}
		if t.Vocab == "" {
			return m.Errorf(e, "text.vocab", `missing: "builtin" or a BPE merges file`)
		}
		if t.Vocab != BuiltinVocab && !isSHA256(t.VocabSHA256) {
			return m.Errorf(e, "text.vocab_sha256", "a vocabulary file needs its sha256 (64 hex digits), got %q", t.VocabSHA256)
		}
		if t.ContextLength <= 1 {
			return m.Errorf(e, "text.context_length", "must be at least 2, got %d", t.ContextLength)
		}
		return nil
	}
	if e.Text != nil {
		return m.Errorf(e, "text", "only a clip_text encoder takes text settings")
	}
	p := e.Preprocess
	if p == nil {
		return m.Errorf(e, "preprocess", "missing: an image encoder needs resize, crop, interpolation, mean and std")
	}
	if len(p.Mean) != 3 {
		return m.Errorf(e, "preprocess.mean", "want 3 values (R, G, B), got %d", len(p.Mean))
	}
	if len(p.Std) != 3 {
		return m.Errorf(e, "preprocess.std", "want 3 values (R, G, B), got %d", len(p.Std))
	}
	if p.CropRounding == "" {
		return m.Errorf(e, "preprocess.crop_rounding", "missing: floor (Hugging Face) or half_even (torchvision, openai/CLIP)")
	}
	var se *preprocess.SpecError
	if err := e.PixelSpec().Validate(); errors.As(err, &se) {
		return m.Errorf(e, "preprocess."+se.Field, "%s", se.Msg)
	}
	return nil
}

// validateHeads checks an attributes model's heads (and that no other role has any).
func (m *ModelManifest) validateHeads(e *EncoderSpec) error {
	if e.Role != RoleAttrs {
		if len(e.Heads) > 0 {
			return m.Errorf(e, "heads", "only an attributes model has heads")
		}
		return nil
	}
	if len(e.Heads) == 0 {
		return m.Errorf(e, "heads", "missing: an attributes model declares its output's heads")
	}
	seen := map[string]bool{}
	for i, h := range e.Heads {
		field := fmt.Sprintf("heads[%d]", i)
		switch {
		case h.Name == "" || seen[h.Name]:
			return m.Errorf(e, field, "name %q is empty or repeated", h.Name)
		case h.RGB && len(h.Values) > 0:
			return m.Errorf(e, field, "%s: either values (a class) or rgb, not both", h.Name)
		case !h.RGB && len(h.Values) < 2:
			return m.Errorf(e, field, "%s: a class head needs at least two values", h.Name)
		}
		seen[h.Name] = true
	}
	return nil
}

func joinRoles() string {
	s := make([]string, len(Roles))
	for i, r := range Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// WriteCalibrations rewrites the manifest file in place with the calibration of each given
// role replaced; everything else (comments, order, other encoders) stays as written. The
// result is read back and validated.
func (m *ModelManifest) WriteCalibrations(cals map[Role]Calibration) (*ModelManifest, error) {
	data, err := readfile.Read("model manifest", m.path, readfile.MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(m.path, err)
	}
	encs := mappingValue(root.Content[0], "encoders")
	if encs == nil || encs.Kind != yaml.SequenceNode {
		return nil, m.doc.Errorf("encoders", "not a list")
	}
	done := map[Role]bool{}
	for _, e := range encs.Content {
		role := mappingValue(e, "role")
		if role == nil {
			continue
		}
		cal, ok := cals[Role(role.Value)]
		if !ok {
			continue
		}
		var v yaml.Node
		if err := v.Encode(cal); err != nil {
			return nil, err
		}
		if old := mappingValue(e, "calibration"); old != nil {
			*old = v
		} else {
			e.Content = append(e.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "calibration"}, &v)
		}
		done[Role(role.Value)] = true
	}
	for r := range cals {
		if !done[r] {
			return nil, m.doc.Errorf("encoders", "no %s encoder to calibrate", r)
		}
	}
	var buf strings.Builder
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, err
	}
	if err := WriteAtomic(m.path, func(f *os.File) error { _, err := f.WriteString(buf.String()); return err }); err != nil {
		return nil, err
	}
	return LoadModelManifest(m.path)
}

// mappingValue returns the value node of key in a mapping node, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
