package world

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
)

// Splits keep benchmark and training characters apart: they draw from separate random
// streams of the same seed.
const (
	SplitBench = "bench"
	SplitTrain = "train"
)

// DefaultSize is the canvas side the generator works at.
const DefaultSize = 64

// BuildOptions configure a benchmark (or training set) build.
type BuildOptions struct {
	Subjects          int            // characters
	PromptsPerSubject int            // transformed targets per character
	Seed              uint64         // same seed, same bytes
	Size              int            // canvas side in pixels (DefaultSize when 0)
	MaxTransforms     int            // transformations per prompt, 1..4 (4 when 0)
	Split             string         // SplitBench (default) or SplitTrain
	Perturbations     []Perturbation // extra variants, each a perturbed copy of every sample
}

// Truth is the ground truth stored in each manifest row's "world" field.
type Truth struct {
	Split             string        `json:"split"`
	Identity          Identity      `json:"identity"`
	Transforms        Scene         `json:"transforms"`
	ReferenceParts    string        `json:"reference_parts"`
	GeneratedParts    string        `json:"generated_parts"`
	Perturbation      *Perturbation `json:"perturbation,omitempty"`
	PerturbationTruth any           `json:"perturbation_detail,omitempty"`
}

// TruthOf reads the ground truth a charis-world manifest row carries in its "world" field.
func TruthOf(s *charis.Sample) (*Truth, error) {
	if len(s.World) == 0 {
		return nil, fmt.Errorf("sample %s: no charis-world ground truth", s.ID)
	}
	var t Truth
	if err := json.Unmarshal(s.World, &t); err != nil {
		return nil, fmt.Errorf("sample %s: world: %v", s.ID, err)
	}
	return &t, nil
}

// stream is the random stream for one purpose ("subject", 3) of a build.
func stream(seed uint64, split string, what string, idx ...int) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprint(h, split, "/", what)
	for _, i := range idx {
		fmt.Fprint(h, "/", i)
	}
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// SubjectIdentity is the identity of subject i of a split.
func SubjectIdentity(seed uint64, split string, i int) Identity {
	return NewIdentity(stream(seed, split, "subject", i))
}

// SampleScene is the scene of prompt k of subject i.
func SampleScene(seed uint64, split string, i, k, maxTransforms int) Scene {
	return NewScene(stream(seed, split, "scene", i, k), maxTransforms)
}

// SubjectName and SampleID name subjects and samples in manifests and file names.
func SubjectName(i int) string { return fmt.Sprintf("s%04d", i) }

// SampleID names prompt k of subject i.
func SampleID(i, k int) string { return fmt.Sprintf("s%04d_p%02d", i, k) }

// GroundTruthVariant is the variant whose generated image is the ground-truth target.
const GroundTruthVariant = "ground_truth"

// MaxSamples bounds a build: a million samples is past any benchmark or training split the
// world is for, and far past what a disk of renders holds comfortably.
const MaxSamples = 1_000_000

// Check reports what Build would refuse in the options, without building.
func (o BuildOptions) Check() error { return o.normalize() }

func (o *BuildOptions) normalize() error {
	if o.Size == 0 {
		o.Size = DefaultSize
	}
	if o.MaxTransforms == 0 {
		o.MaxTransforms = 4
	}
	if o.Split == "" {
		o.Split = SplitBench
	}
	switch {
	case o.Subjects <= 0:
		return fmt.Errorf("subjects must be positive, got %d", o.Subjects)
	case o.PromptsPerSubject <= 0:
		return fmt.Errorf("prompts per subject must be positive, got %d", o.PromptsPerSubject)
	case o.Subjects > MaxSamples/o.PromptsPerSubject:
		return fmt.Errorf("subjects x prompts per subject must be at most %d samples, got %d x %d", MaxSamples, o.Subjects, o.PromptsPerSubject)
	case o.Size < 16 || o.Size > 1024:
		return fmt.Errorf("size must be in [16, 1024], got %d", o.Size)
	case o.MaxTransforms < 1 || o.MaxTransforms > 4:
		return fmt.Errorf("transformations per prompt must be in [1, 4], got %d", o.MaxTransforms)
	case o.Split != SplitBench && o.Split != SplitTrain:
		return fmt.Errorf("split must be %s or %s, got %q", SplitBench, SplitTrain, o.Split)
	}
	return nil
}

// Build writes a benchmark to out: references/, targets/, perturbed/ images with their
// subject masks (*.mask.png) and part maps (*.parts.png), and manifest.jsonl, whose
// ground_truth rows point "generated" at the true target (scoring them scores a perfect
// generator) and whose other variants are perturbations. It also writes the world's
// encoders with their manifest (models.yaml, models/) and build.json with the options.
// The same options give byte-identical files.
func Build(out string, opt BuildOptions) error {
	if err := opt.normalize(); err != nil {
		return err
	}
	w := &writer{root: out}
	var rows []charis.Sample
	var perturbed []charis.Sample
	for i := 0; i < opt.Subjects; i++ {
		id := SubjectIdentity(opt.Seed, opt.Split, i)
		subject := SubjectName(i)
		ref := Draw(id, nil, opt.Size)
		refBase := filepath.Join("references", subject)
		if err := w.render(refBase, ref); err != nil {
			return err
		}
		for k := 0; k < opt.PromptsPerSubject; k++ {
			sid := SampleID(i, k)
			scene := SampleScene(opt.Seed, opt.Split, i, k, opt.MaxTransforms)
			tgtBase := filepath.Join("targets", sid)
			if err := w.render(tgtBase, Draw(id, scene, opt.Size)); err != nil {
				return err
			}
			truth := Truth{Split: opt.Split, Identity: id, Transforms: scene,
				ReferenceParts: refBase + ".parts.png", GeneratedParts: tgtBase + ".parts.png"}
			row, err := sample(sid, subject, GroundTruthVariant, scene.Prompt(), refBase, tgtBase, truth)
			if err != nil {
				return err
			}
			rows = append(rows, row)
			for pi, p := range opt.Perturbations {
				pert := Perturb(p, id, scene, opt.Size, ref, stream(opt.Seed, opt.Split, "perturb", i, k, pi))
				base := filepath.Join("perturbed", p.String(), sid)
				if err := w.render(base, pert.Render); err != nil {
					return err
				}
				t := truth
				t.GeneratedParts, t.Perturbation, t.PerturbationTruth = base+".parts.png", &p, pert.Detail
				row, err := sample(sid+"@"+p.String(), subject, p.String(), pert.Prompt, refBase, base, t)
				if err != nil {
					return err
				}
				perturbed = append(perturbed, row)
			}
		}
	}
	rows = append(rows, perturbed...)
	f, err := os.Create(filepath.Join(out, "manifest.jsonl"))
	if err != nil {
		return err
	}
	if err := charis.WriteSamples(f, rows); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := WriteEncoders(out); err != nil {
		return fmt.Errorf("writing the world's encoders: %w", err)
	}
	meta, _ := json.MarshalIndent(opt, "", " ")
	return os.WriteFile(filepath.Join(out, "build.json"), append(meta, '\n'), 0o644)
}

// Class is the class every charis-world subject has (the judge's knowledge-base type).
const Class = "character"

func sample(id, subject, variant, prompt, refBase, genBase string, t Truth) (charis.Sample, error) {
	truth, err := json.Marshal(t)
	if err != nil {
		return charis.Sample{}, err
	}
	return charis.Sample{ID: id, Subject: subject, Variant: variant, Reference: refBase + ".png", Prompt: prompt,
		Generated: genBase + ".png", ReferenceMask: refBase + ".mask.png", GeneratedMask: genBase + ".mask.png",
		Class: Class, World: truth}, nil
}

// writer writes a render's three files under root, creating folders as needed.
type writer struct{ root string }

func (w *writer) render(base string, r *Render) error {
	for suffix, img := range map[string]image.Image{".png": r.Image, ".mask.png": r.Mask(), ".parts.png": r.PartImage()} {
		if err := imageio.WritePNG(filepath.Join(w.root, base+suffix), img); err != nil {
			return err
		}
	}
	return nil
}
