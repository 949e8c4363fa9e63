// Package fuzzcheck holds what every fuzz target of charisbench checks besides its own
// invariants: that one input is handled within a second and a bounded amount of memory
// (checked while fuzzing only, not on the seed corpus in a plain go test, where timings
// mean nothing), and that an error names the file it is about.
package fuzzcheck

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Limits of one input while fuzzing.
const (
	MaxTime  = time.Second
	MaxAlloc = 256 << 20 // bytes allocated in handling the input
)

// fuzzing reports whether this test binary runs with -test.fuzz.
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// Bounded runs fn and, while fuzzing, fails t when it took longer than MaxTime or
// allocated more than MaxAlloc.
func Bounded(t *testing.T, fn func()) {
	t.Helper()
	if !fuzzing() {
		fn()
		return
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if took > MaxTime {
		t.Errorf("one input took %v (limit %v)", took, MaxTime)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > MaxAlloc {
		t.Errorf("one input allocated %d MB (limit %d MB)", a>>20, MaxAlloc>>20)
	}
}

// NamesFile fails t when err does not name file (its path or base name).
func NamesFile(t *testing.T, err error, file string) {
	t.Helper()
	if err == nil {
		return
	}
	if !strings.Contains(err.Error(), file) {
		t.Errorf("error does not name %s: %v", file, err)
	}
}

// File writes an input to a file named name in a fresh folder, where a user's file would be,
// and returns its path.
func File(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
