package flowdit

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/clip"
	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/charis/preprocess"
)

// GenerateOptions configure Generate.
type GenerateOptions struct {
	Checkpoint string // a base or fine-tuned checkpoint folder
	Manifest   string // samples whose reference and prompt to generate for
	Out        string // folder for images/ and manifest.jsonl
	Variant    string // variant name of the generated rows ("" keeps the manifest's)
	Batch      int
	Sample     SampleOptions
	Device     Device // cpu (default) or cuda
}

// Generate produces one image per manifest row from its reference and prompt and writes
// OUT/images/ID.png and OUT/manifest.jsonl: the rows with generated (and variant)
// replaced and paths relative to OUT, ready for `charisbench score`. References are
// resized to the model's size with Pillow's bicubic filter; the reference mask is kept,
// the generated mask dropped (the segmenter or the whole image stands in).
func Generate(o GenerateOptions) (int, error) {
	rows, err := charis.ReadManifest(o.Manifest)
	if err != nil {
		return 0, err
	}
	be, err := BackendFor(o.Device)
	if err != nil {
		return 0, err
	}
	m, _, err := Load(o.Checkpoint, be)
	if err != nil {
		return 0, err
	}
	tok, err := clip.Default()
	if err != nil {
		return 0, err
	}
	if o.Batch <= 0 {
		o.Batch = 8
	}
	c := m.Config
	if err := os.MkdirAll(filepath.Join(o.Out, "images"), 0o755); err != nil {
		return 0, err
	}
	out := make([]charis.Sample, 0, len(rows))
	for start := 0; start < len(rows); start += o.Batch {
		batch := rows[start:min(start+o.Batch, len(rows))]
		var refs []float32
		var ids []int32
		for _, r := range batch {
			path := charis.Resolve(o.Manifest, r.Reference)
			img, err := imageio.ReadFile(path, imageio.Options{})
			if err != nil {
				return 0, fmt.Errorf("row %s: %w", r.ID, err)
			}
			small, err := preprocess.Resize(img, c.ImageSize, c.ImageSize, preprocess.Bicubic)
			if err != nil {
				return 0, err
			}
			refs = append(refs, ToLatent(small)...)
			ids = append(ids, c.HashIDs(tok.Tokenize(r.Prompt, clip.ContextLength))...)
		}
		opt := o.Sample
		opt.Seed += uint64(start) // each batch its own noise, the whole run still seeded
		z, err := m.Sample(refs, ids, len(batch), opt)
		if err != nil {
			return 0, err
		}
		per := c.ImageSize * c.ImageSize * c.Channels
		for i, r := range batch {
			name := filepath.Join("images", r.ID+".png")
			if err := writePNG(filepath.Join(o.Out, name), z[i*per:(i+1)*per], c.ImageSize); err != nil {
				return 0, err
			}
			row := r
			row.Generated, row.GeneratedMask, row.World = name, "", nil
			if o.Variant != "" {
				row.Variant = o.Variant
			}
			row.Reference = charis.RelTo(o.Out, charis.Resolve(o.Manifest, r.Reference))
			if r.ReferenceMask != "" {
				row.ReferenceMask = charis.RelTo(o.Out, charis.Resolve(o.Manifest, r.ReferenceMask))
			}
			out = append(out, row)
		}
	}
	f, err := os.Create(filepath.Join(o.Out, "manifest.jsonl"))
	if err != nil {
		return 0, err
	}
	if err := charis.WriteSamples(f, out); err != nil {
		f.Close()
		return 0, err
	}
	return len(out), f.Close()
}

func writePNG(path string, z []float32, size int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, FromLatent(z, size)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
