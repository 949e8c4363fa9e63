package cache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	c, err := Open(filepath.Join(t.TempDir(), "c.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok, err := c.Get("emb", "k"); ok || err != nil {
		t.Fatalf("empty cache: ok %v err %v", ok, err)
	}
	v := []float32{1.5, -2, 3.25}
	if err := c.Put("emb", "k", EncodeFloats(v)); err != nil {
		t.Fatal(err)
	}
	b, ok, err := c.Get("emb", "k")
	got, _ := DecodeFloats(b)
	if !ok || err != nil || !slices.Equal(got, v) {
		t.Fatalf("got %v ok %v err %v", got, ok, err)
	}
	if _, ok, _ := c.Get("other-kind", "k"); ok {
		t.Fatal("kinds are not separate")
	}
}

// TestTwoWritersAtOnce: two independent connections (as two processes would open) write
// and read the same database concurrently without errors or lost entries.
func TestTwoWritersAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sqlite")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for w, c := range []*Cache{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				key := fmt.Sprintf("%d-%d", w, i)
				if err := c.Put("emb", key, EncodeFloats([]float32{float32(i)})); err != nil {
					errs <- err
				}
				if _, _, err := c.Get("emb", fmt.Sprintf("%d-%d", 1-w, i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := range 2 {
		for i := range n {
			if _, ok, _ := a.Get("emb", fmt.Sprintf("%d-%d", w, i)); !ok {
				t.Fatalf("entry %d-%d lost", w, i)
			}
		}
	}
}

// helperEnv makes the test binary act as a second process writing to a cache.
const helperEnv = "CHARISBENCH_CACHE_HELPER"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		c, err := Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for i := range 300 {
			if err := c.Put("emb", fmt.Sprintf("child-%d", i), EncodeFloats([]float32{float32(i)})); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		c.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestTwoProcesses: another process writes the same database while this one does.
func TestTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sqlite")
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if err := c.Put("emb", fmt.Sprintf("parent-%d", i), EncodeFloats([]float32{float32(i)})); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child process: %v: %s", err, stderr.String())
	}
	for _, who := range []string{"parent", "child"} {
		for i := range 300 {
			if _, ok, err := c.Get("emb", fmt.Sprintf("%s-%d", who, i)); !ok || err != nil {
				t.Fatalf("%s-%d missing (err %v)", who, i, err)
			}
		}
	}
}

// TestDamagedEntry: a value changed on disk reads as ErrDamaged, not as a value, and the
// Put that recomputes it replaces it.
func TestDamagedEntry(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.sqlite")
	c, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Put("emb", "k", []byte("value")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.Exec(`UPDATE entries SET value = ? WHERE key = 'k'`, []byte("valuX\x00\x00\x00\x00")); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := c.Get("emb", "k"); ok || !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), p) {
		t.Fatalf("damaged entry: %q, ok %v, err %v; want ErrDamaged naming %s", v, ok, err, p)
	}
	if err := c.Put("emb", "k", []byte("value")); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := c.Get("emb", "k"); !ok || err != nil || string(v) != "value" {
		t.Fatalf("after the Put: %q, ok %v, err %v", v, ok, err)
	}
}
