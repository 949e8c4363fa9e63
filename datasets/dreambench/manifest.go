package dreambench

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/readfile"
)

// Options pairs a generated folder with the dataset.
type Options struct {
	Data      string // DreamBooth's dataset/ folder
	Generated string // the generated images, laid out by Layout
	Out       string // the manifest's path: its rows' paths are relative to its folder
	Layout    string // default DefaultLayout
	Variant   string // default: the generated folder's name
	Token     string // the unique token in the prompts; default "sks"
	Samples   int    // images per prompt; default 4, as DreamBench
	// SkipMissing leaves out samples whose image is missing instead of refusing.
	SkipMissing bool
}

// Result is the manifest's rows and what was left out.
type Result struct {
	Samples  []charis.Sample
	Missing  []string // the first path tried of each missing sample, relative to Generated
	Subjects int      // subjects in the dataset
	Extra    int      // files in the layout's shape past Options.Samples, not in the manifest
}

// maxListed is how many missing files an error names.
const maxListed = 5

// Manifest pairs each (subject, prompt, sample) of the dataset with its generated image.
// Each row's reference is the subject's first photo by name, its prompt the dataset's with
// the unique token, its class the dataset's. A file in the layout's shape whose subject or
// prompt index the dataset does not have is an error naming it: a misnamed folder would
// otherwise be silently missing.
func Manifest(opt Options) (*Result, error) {
	if opt.Layout == "" {
		opt.Layout = DefaultLayout
	}
	if opt.Token == "" {
		opt.Token = "sks"
	}
	if opt.Samples == 0 {
		opt.Samples = 4
	}
	if opt.Samples < 0 {
		return nil, fmt.Errorf("samples per prompt must be positive, got %d", opt.Samples)
	}
	if opt.Variant == "" {
		opt.Variant = filepath.Base(filepath.Clean(opt.Generated))
	}
	layout, err := ParseLayout(opt.Layout)
	if err != nil {
		return nil, err
	}
	d, err := Load(opt.Data)
	if err != nil {
		return nil, err
	}
	res := &Result{Subjects: len(d.Subjects)}
	if res.Extra, err = checkStrays(d, layout, opt); err != nil {
		return nil, err
	}
	rel := func(p string) string { return charis.RelTo(filepath.Dir(opt.Out), p) }
	for _, s := range d.Subjects {
		for k, tmpl := range d.Prompts(s) {
			for j := range opt.Samples {
				paths := layout.Paths(s, k, j)
				found := ""
				for _, p := range paths {
					if st, why := readfile.Stat(filepath.Join(opt.Generated, p)); why == nil && st.Mode().IsRegular() {
						found = p
						break
					}
				}
				if found == "" {
					res.Missing = append(res.Missing, paths[0])
					continue
				}
				res.Samples = append(res.Samples, charis.Sample{
					ID: fmt.Sprintf("%s_p%02d_s%d", s.Name, k, j), Subject: s.Name, Variant: opt.Variant,
					Reference: rel(s.Photos[0]), Prompt: Prompt(tmpl, opt.Token, s),
					Generated: rel(filepath.Join(opt.Generated, found)), Class: s.Class,
				})
			}
		}
	}
	if len(res.Missing) > 0 && !opt.SkipMissing {
		return nil, fmt.Errorf("%s: %d of %d generated images are missing (%s); pass --skip-missing to leave them out",
			opt.Generated, len(res.Missing), len(res.Missing)+len(res.Samples), listed(res.Missing))
	}
	if len(res.Samples) == 0 {
		return nil, fmt.Errorf("%s: no generated image found in the layout %q", opt.Generated, opt.Layout)
	}
	return res, nil
}

// checkStrays walks the generated folder for files in the layout's shape that name a
// subject or prompt index the dataset lacks (an error), and counts those past the samples
// per prompt.
func checkStrays(d *Dataset, layout Layout, opt Options) (extra int, err error) {
	subjects := map[string]Subject{}
	for _, s := range d.Subjects {
		subjects[s.Name] = s
	}
	prompts := filepath.Join(d.Dir, PromptsFile)
	err = filepath.WalkDir(opt.Generated, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(opt.Generated, path)
		if err != nil {
			return err
		}
		name, k, j, ok := layout.match(filepath.ToSlash(rel))
		if !ok {
			return nil
		}
		s, known := subjects[name]
		switch {
		case !known:
			return fmt.Errorf("%s: subject %q is not in DreamBench (%s)", path, name, prompts)
		case k >= len(d.Prompts(s)):
			return fmt.Errorf("%s: prompt index %d, but %s (%s) has %d prompts, 00 to %02d (%s)", path, k, s.Name, kind(s), len(d.Prompts(s)), len(d.Prompts(s))-1, prompts)
		case !pathIn(layout.Paths(s, k, j), rel):
			return fmt.Errorf("%s: does not follow the layout %q (want %s)", path, opt.Layout, layout.Paths(s, k, j)[0])
		case j >= opt.Samples:
			extra++
		}
		return nil
	})
	return extra, err
}

func kind(s Subject) string {
	if s.Live {
		return "a live subject"
	}
	return "an object"
}

func pathIn(paths []string, rel string) bool {
	for _, p := range paths {
		if filepath.FromSlash(p) == rel {
			return true
		}
	}
	return false
}

func listed(paths []string) string {
	if len(paths) <= maxListed {
		return "missing: " + strings.Join(paths, ", ")
	}
	return fmt.Sprintf("the first %d: %s", maxListed, strings.Join(paths[:maxListed], ", "))
}

// Write writes the manifest atomically.
func Write(path string, samples []charis.Sample) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return charis.WriteAtomic(path, func(f *os.File) error { return charis.WriteSamples(f, samples) })
}
