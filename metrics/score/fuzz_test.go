package score

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/charisbench/charisbench/internal/fuzzcheck"
)

// FuzzWorkLog: any bytes as work.jsonl open for resuming or are refused naming the folder;
// only records the check accepts count as done, and the log left on disk is the kept
// prefix plus nothing else (a header when it kept nothing).
func FuzzWorkLog(f *testing.F) {
	f.Add([]byte(`{"run_key":"k"}` + "\n" + `{"index":0,"id":"a","status":"error","reason":"x"}` + "\n"))
	f.Add([]byte(`{"run_key":"k"}` + "\n{}\ngarbage\n"))
	f.Add([]byte(`{"run_key":"other"}` + "\n"))
	f.Add([]byte(`{"run_ke`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, WorkFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		valid := func(r *record) bool { return r.Index == 0 && r.ID == "a" }
		fuzzcheck.Bounded(t, func() {
			w, done, err := openWork(dir, "k", false, valid)
			fuzzcheck.NamesFile(t, err, dir)
			if err != nil {
				return
			}
			defer w.close()
			for i := range done {
				if i != 0 {
					t.Fatalf("index %d counted as done", i)
				}
			}
			n := 0
			if err := w.each(func(r *record, _ int64) error { n++; return nil }); err != nil {
				t.Fatalf("the kept log does not read back: %v", err)
			}
			if n > 0 && !done[0] {
				t.Fatalf("%d records kept, none done", n)
			}
		})
	})
}
