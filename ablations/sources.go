package ablations

import (
	"os"
	"path/filepath"

	"github.com/charisbench/charisbench/charis"
)

// dirManifest points every benchmark row at DIR/ID.png, as variant name, in out/manifest.jsonl.
// A missing image stays in the manifest: scoring records that sample as an error.
func dirManifest(manifest, dir, name, out string) error {
	rows, err := charis.ReadManifest(manifest)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i] = rebase(rows[i], manifest, out)
		rows[i].Variant = name
		rows[i].Generated = charis.RelTo(out, filepath.Join(dir, rows[i].ID+".png"))
		rows[i].GeneratedMask, rows[i].World = "", nil
	}
	return writeManifest(filepath.Join(out, "manifest.jsonl"), rows)
}

// rebase makes a row's reference paths relative to a manifest written in out.
func rebase(s charis.Sample, manifest, out string) charis.Sample {
	s.Reference = charis.RelTo(out, charis.Resolve(manifest, s.Reference))
	if s.ReferenceMask != "" {
		s.ReferenceMask = charis.RelTo(out, charis.Resolve(manifest, s.ReferenceMask))
	}
	return s
}

func writeManifest(path string, rows []charis.Sample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := charis.WriteSamples(f, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
