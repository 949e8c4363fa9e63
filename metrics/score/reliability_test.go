package score

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/cache"
	"github.com/charisbench/charisbench/metrics/encoder"
)

// scoredOnce scores a small world without a cache: its options and samples.jsonl.
func scoredOnce(t *testing.T, rt *encoder.Runtime) (Options, []byte) {
	t.Helper()
	opt := options(t, rt, buildWorld(t, 3, 2, "blur@1"))
	if _, err := Run(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(opt.Out, charis.SamplesFile))
	if err != nil {
		t.Fatal(err)
	}
	return opt, want
}

// TestCorruptWorkLog: a run resumed from a work log a killed job or a stray writer left
// damaged either continues to samples.jsonl identical to an uninterrupted run's, or
// refuses saying how to recover (docs/reliability.md lists every case).
func TestCorruptWorkLog(t *testing.T) {
	rt := openRuntime(t)
	opt, want := scoredOnce(t, rt)
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

// TestCacheDamagedInside: a real cache damaged inside (values changed on disk, values filed
// under another key, pages overwritten, the file cut) either scores to samples.jsonl
// identical to an undamaged run's, recomputing what it cannot trust, or refuses naming the
// file and the way out. Never an answer from a damaged entry.
func TestCacheDamagedInside(t *testing.T) {
	rt := openRuntime(t)
	opt, want := scoredOnce(t, rt)
	good := filepath.Join(t.TempDir(), "cache.sqlite")
	withCache := func(path string) (*cache.Cache, error) {
		c, err := cache.Open(path)
		if err != nil {
			return nil, err
		}
		o := opt
		o.Out, o.Cache = t.TempDir(), c
		_, err = Run(context.Background(), o)
		c.Close()
		if err != nil {
			return nil, err
		}
		got, err := os.ReadFile(filepath.Join(o.Out, charis.SamplesFile))
		if err == nil && !bytes.Equal(got, want) {
			t.Error("samples.jsonl differs from the run without a cache")
		}
		return c, err
	}
	if _, err := withCache(good); err != nil {
		t.Fatal(err)
	}
	checkpoint(t, good) // everything in the main file, so damaging it damages the entries
	original, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		refuse bool // else: continues, identical
		damage func(t *testing.T, path string)
	}{
		{"a byte of every value changed", false, func(t *testing.T, p string) {
			rewrite(t, p, func(kinds, keys []string, values [][]byte) {
				for _, v := range values {
					v[len(v)/2] ^= 0x40
				}
			})
		}},
		{"values filed under other keys", false, func(t *testing.T, p string) {
			rewrite(t, p, func(kinds, keys []string, values [][]byte) {
				for i := 0; i+1 < len(values); i += 2 {
					values[i], values[i+1] = values[i+1], values[i]
				}
			})
		}},
		{"values without their checksum", false, func(t *testing.T, p string) {
			rewrite(t, p, func(kinds, keys []string, values [][]byte) {
				for i, v := range values {
					values[i] = v[:len(v)-4]
				}
			})
		}},
		{"pages overwritten", false, func(t *testing.T, p string) {
			b := bytes.Clone(original)
			for i := len(b) / 3; i < len(b)/3+8192 && i < len(b); i++ {
				b[i] = 0xA5
			}
			os.WriteFile(p, b, 0o644)
		}},
		{"cut in half", true, func(t *testing.T, p string) { os.WriteFile(p, original[:len(original)/2], 0o644) }},
		{"header overwritten", true, func(t *testing.T, p string) {
			b := bytes.Clone(original)
			copy(b, strings.Repeat("garbage!", 8))
			os.WriteFile(p, b, 0o644)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "cache.sqlite")
			if err := os.WriteFile(p, original, 0o644); err != nil {
				t.Fatal(err)
			}
			c.damage(t, p)
			_, err := withCache(p)
			switch {
			case c.refuse && (err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "--no-cache")):
				t.Fatalf("want a refusal naming the file and the way out, got %v", err)
			case !c.refuse && err != nil:
				t.Fatalf("did not continue: %v", err)
			}
		})
	}
}

// checkpoint moves a WAL-mode database's log into its main file.
func checkpoint(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
}

// rewrite changes a cache's stored values directly, as damage on disk would.
func rewrite(t *testing.T, path string, change func(kinds, keys []string, values [][]byte)) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT kind, key, value FROM entries ORDER BY kind, key")
	if err != nil {
		t.Fatal(err)
	}
	var kinds, keys []string
	var values [][]byte
	for rows.Next() {
		var k, key string
		var v []byte
		if err := rows.Scan(&k, &key, &v); err != nil {
			t.Fatal(err)
		}
		kinds, keys, values = append(kinds, k), append(keys, key), append(values, v)
	}
	rows.Close()
	if len(values) < 4 {
		t.Fatalf("the cache holds %d entries", len(values))
	}
	change(kinds, keys, values)
	for i := range values {
		if _, err := db.Exec("UPDATE entries SET value = ? WHERE kind = ? AND key = ?", values[i], kinds[i], keys[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
}
