package ablations

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/charisbench/charisbench/internal/fuzzcheck"
)

// FuzzAblationsFile: any bytes as an ablations file load and expand into variants, or fail
// naming the file; nothing panics, and alias bombs end within the bounds.
func FuzzAblationsFile(f *testing.F) {
	for _, p := range []string{"../examples/charis-world/ablations.yaml", "../examples/ablations-gpu.yaml", "../examples/torch-generator/ablations.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"))
	f.Add([]byte("version: 1\nname: x\nvariants:\n  - name: a\n  - name: a\n"))
	f.Add([]byte(gridBomb))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := fuzzcheck.File(t, "ablations.yaml", data)
		fuzzcheck.Bounded(t, func() {
			file, err := Load(p)
			fuzzcheck.NamesFile(t, err, p)
			if err != nil {
				return
			}
			_, err = file.Expand()
			fuzzcheck.NamesFile(t, err, p)
		})
	})
}

// FuzzJournal: any bytes as a generation journal read, or fail naming the file; every entry
// kept has a key and an image inside the folder.
func FuzzJournal(f *testing.F) {
	f.Add([]byte(`{"key":"a","id":"x","image":"images/x.png"}` + "\n" + `{"key":"c","id":"z","ima`))
	f.Add([]byte("{}\ngarbage\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := fuzzcheck.File(t, "journal.jsonl", data)
		fuzzcheck.Bounded(t, func() {
			done, err := readJournal(p)
			fuzzcheck.NamesFile(t, err, p)
			for k, e := range done {
				if k == "" || k != e.Key || (e.Image != "" && !filepath.IsLocal(filepath.FromSlash(e.Image))) {
					t.Fatalf("kept entry %q: %+v", k, e)
				}
			}
		})
	})
}
