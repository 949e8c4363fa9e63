package score

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/cache"
)

// TestCorruptWorkLog: a run resumed from a work log a killed job or a stray writer left
// damaged either continues to samples.jsonl identical to an uninterrupted run's, or
// refuses saying how to recover (docs/reliability.md lists every case).
func TestCorruptWorkLog(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 3, 2, "blur@1")
	opt := options(t, rt, dir)
	if _, err := Run(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(opt.Out, charis.SamplesFile))
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(filepath.Join(opt.Out, WorkFile))
	if err != nil {
		t.Fatal(err)
	}
	header := bytes.IndexByte(log, '\n') + 1
	lines := bytes.SplitAfter(log, []byte("\n"))
	other := options(t, rt, buildWorld(t, 2, 1)) // another run's log
	if _, err := Run(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	otherLog, err := os.ReadFile(filepath.Join(other.Out, WorkFile))
	if err != nil {
		t.Fatal(err)
	}
	// A record of this run's first sample, with another sample's id: valid JSON, wrong row.
	misfiled := bytes.Replace(lines[1], []byte(`"index":`), []byte(`"index":1,"x":`), 1)

	for _, c := range []struct {
		name   string
		log    []byte
		refuse string // "" : continues to the same samples.jsonl
	}{
		{"cut inside the header", log[:header/2], ""},
		{"cut after the header", log[:header], ""},
		{"cut inside a record", log[:header+len(lines[1])/2], ""},
		{"cut inside the last record", log[:len(log)-7], ""},
		{"zero length", nil, ""},
		{"a line of garbage appended", append(bytes.Clone(log), "garbage\n"...), ""},
		{"an empty object appended", append(bytes.Clone(log), "{}\n"...), ""},
		{"a record moved to another sample", append(bytes.Clone(log[:header]), append(misfiled, bytes.Join(lines[2:], nil)...)...), ""},
		{"a record with a broken unit vector", bytes.Replace(log, []byte(`"unit":"`), []byte(`"unit":"AAA`), 1), ""},
		{"another run's log", otherLog, "--restart"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := opt
			o.Out = t.TempDir()
			if err := os.WriteFile(filepath.Join(o.Out, WorkFile), c.log, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Run(context.Background(), o)
			if c.refuse != "" {
				if err == nil || !strings.Contains(err.Error(), c.refuse) {
					t.Fatalf("want a refusal naming %s, got %v", c.refuse, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(o.Out, charis.SamplesFile))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("samples.jsonl differs from the uninterrupted run's")
			}
		})
	}
}

// TestCorruptCache: a cache file that is not a database is refused naming it and saying
// what to do; a finished run's outputs deleted or cut are written again identically.
func TestCorruptCache(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cache.sqlite")
	if err := os.WriteFile(p, []byte(strings.Repeat("not a database ", 300)), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(p)
	if err == nil {
		c.Close()
		t.Fatal("a corrupt cache opened")
	}
	if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "--no-cache") {
		t.Fatalf("the error does not name the file and the way out: %v", err)
	}
}
