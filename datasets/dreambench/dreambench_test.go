package dreambench

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
)

const data = "../../../shared/data/dreambench"

// generate writes an empty file for every (subject, prompt, sample) of the dataset in the
// layout, with ext, and returns the folder.
func generate(t *testing.T, d *Dataset, layout string, samples int, ext string) string {
	t.Helper()
	l, err := ParseLayout(layout)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ours")
	for _, s := range d.Subjects {
		for k := range d.Prompts(s) {
			for j := range samples {
				p := filepath.Join(dir, strings.ReplaceAll(l.Paths(s, k, j)[0], ".png", "."+ext))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return dir
}

// TestFullGrid: the dataset's 30 subjects x 25 prompts x 4 samples, from the default layout
// with JPEGs and from another layout; prompts by subject kind, the class in each row.
func TestFullGrid(t *testing.T) {
	d, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, s := range d.Subjects {
		if s.Live {
			live++
		}
	}
	if len(d.Subjects) != 30 || live != 9 || len(d.Object) != 25 || len(d.Live) != 25 {
		t.Fatalf("%d subjects (%d live), %d object and %d live prompts; want DreamBench's 30 (9 live), 25, 25", len(d.Subjects), live, len(d.Object), len(d.Live))
	}
	for _, c := range []struct{ layout, ext string }{{DefaultLayout, "jpg"}, {"{class}/{subject}-{prompt_index}-{sample}.png", "png"}} {
		gen := generate(t, d, c.layout, 4, c.ext)
		out := filepath.Join(t.TempDir(), "manifest.jsonl")
		res, err := Manifest(Options{Data: data, Generated: gen, Out: out, Layout: c.layout})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Samples) != 30*25*4 || len(res.Missing) != 0 {
			t.Fatalf("%s: %d samples, %d missing; want 3000, 0", c.layout, len(res.Samples), len(res.Missing))
		}
		if err := Write(out, res.Samples); err != nil {
			t.Fatal(err)
		}
		back, err := charis.ReadManifest(out)
		if err != nil || len(back) != 3000 {
			t.Fatalf("the manifest reads back as %d rows (%v)", len(back), err)
		}
		byID := map[string]charis.Sample{}
		for _, s := range back {
			byID[s.ID] = s
		}
		dog, pack := byID["dog_p10_s3"], byID["backpack_p10_s0"]
		if dog.Prompt != "a sks dog wearing a red hat" || dog.Class != "dog" || dog.Variant != "ours" {
			t.Errorf("a live subject's prompt 10: %+v", dog)
		}
		if pack.Prompt != "a sks backpack with a wheat field in the background" || pack.Class != "backpack" {
			t.Errorf("an object's prompt 10: %+v", pack)
		}
		if _, err := os.Stat(charis.ResolveAbs(out, dog.Generated)); err != nil {
			t.Errorf("the generated path does not resolve from the manifest: %v", err)
		}
		if ref := charis.ResolveAbs(out, dog.Reference); filepath.Base(filepath.Dir(ref)) != "dog" {
			t.Errorf("dog's reference %s", ref)
		}
	}
}

// TestRefused: missing images, a subject or prompt index the dataset lacks, a file that
// breaks the layout, a bad layout, and a damaged prompt list are each refused naming what.
func TestRefused(t *testing.T) {
	d, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "m.jsonl")
	gen := generate(t, d, DefaultLayout, 2, "png")
	run := func(o Options) (*Result, error) {
		o.Data, o.Out = cmp.Or(o.Data, data), out
		o.Generated = cmp.Or(o.Generated, gen)
		return Manifest(o)
	}
	if _, err := run(Options{Samples: 4}); err == nil || !strings.Contains(err.Error(), "1500 of 3000 generated images are missing (the first 5: backpack/00_2.png") || !strings.Contains(err.Error(), "--skip-missing") {
		t.Errorf("missing images: %v", err)
	}
	res, err := run(Options{Samples: 4, SkipMissing: true})
	if err != nil || len(res.Samples) != 1500 || len(res.Missing) != 1500 {
		t.Errorf("--skip-missing: %v", err)
	}
	if res, err := run(Options{Samples: 1}); err != nil || len(res.Samples) != 750 || res.Extra != 750 {
		t.Errorf("one sample of two: %+v, %v", res, err)
	}
	add := func(rel string) string {
		p := filepath.Join(gen, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
		t.Cleanup(func() { os.Remove(p) })
		return p
	}
	for _, c := range []struct{ file, want string }{
		{"dog9/00_0.png", `subject "dog9" is not in DreamBench`},
		{"dog/25_0.png", "prompt index 25, but dog (a live subject) has 25 prompts, 00 to 24"},
		{"dog/3_0.png", `does not follow the layout "{subject}/{prompt_index}_{sample}.{ext}" (want dog/03_0.png)`},
	} {
		p := add(c.file)
		if _, err := run(Options{Samples: 2}); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming it: %s", c.file, err, c.want)
		}
		os.Remove(p)
	}
	for _, c := range []struct{ layout, want string }{
		{"{subject}/{prompt_index}.png", "want {sample} exactly once"},
		{"{subject}/{prompt}_{sample}.png", "unknown field {prompt}"},
		{"../{subject}/{prompt_index}_{sample}.png", "inside the generated folder"},
	} {
		if _, err := run(Options{Layout: c.layout}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("layout %s: %v, want %s", c.layout, err, c.want)
		}
	}
	text, err := os.ReadFile(filepath.Join(data, PromptsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ old, new, want string }{
		{"'a {0} {1} in the jungle'.format(unique_token, class_token),", "'a {0} {1} in the jungle'.format(token),", ":40: want a prompt as the dataset writes it"},
		{"dog2,dog\n", "dog2,dog\ndog2,dog\n", `:16: subject "dog2" already on line 15`},
		{"wolf_plushie,stuffed animal\n", "wolf_plushie,stuffed animal\nnot a subject\n", `:34: want "subject_name,class"`},
		{"Live Subject Prompts", "Dead Subject Prompts", `:67: want a prompt as the dataset writes it ('a {0} {1} in the snow'.format(unique_token, class_token)), got "Dead Subject Prompts"`},
	} {
		dir := t.TempDir()
		damaged := strings.Replace(string(text), c.old, c.new, 1)
		if damaged == string(text) {
			t.Fatalf("%q is not in %s", c.old, PromptsFile)
		}
		os.WriteFile(filepath.Join(dir, PromptsFile), []byte(damaged), 0o644)
		_, err := Load(dir)
		var fe *charis.FieldError
		if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), filepath.Join(dir, PromptsFile)+c.want) {
			t.Errorf("%s: %v, want %s", c.new, err, c.want)
		}
	}
	// A prompt list without the subjects' folders names the subject and the folder.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, PromptsFile), text, 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "subject backpack") || !strings.Contains(err.Error(), filepath.Join(dir, "backpack")) {
		t.Errorf("no photos: %v", err)
	}
}
