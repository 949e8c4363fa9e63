// Package testprog builds the small Go programs tests run as other processes (exec
// generators that speak the protocol, misbehaving on cue).
package testprog

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// Build compiles the main package at pkg (a path relative to the test's package folder)
// into the test's temporary folder and returns the binary's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	return bin
}
