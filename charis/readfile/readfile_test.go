package readfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOnlyRegularFiles: a device, a named pipe, a folder and a missing file are errors
// naming the purpose and the path before any read (a pipe with no writer would block
// forever on open); a file over the limit is an error; a regular file reads whole.
func TestOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/dev/zero":                   "config: /dev/zero is not a regular file (a character device)",
		fifo:                          "is not a regular file (a named pipe)",
		dir:                           "is not a regular file (a folder)",
		filepath.Join(dir, "missing"): "missing: file not found",
		big:                           "over the limit of 1024 bytes",
	} {
		_, err := Read("config", path, 1024)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if _, err := Open("config", filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file's error is not fs.ErrNotExist: %v", err)
	}
	if data, err := Read("config", big, 2048); err != nil || len(data) != 2048 {
		t.Errorf("a file at the limit: %d bytes, %v", len(data), err)
	}
	if h, err := SHA256("config", big); err != nil || len(h) != 64 {
		t.Errorf("SHA256: %q, %v", h, err)
	}
}
