package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEndlessFilesRefused: a config or a model that names a device (/dev/zero reads zeros
// forever, /dev/urandom random bytes forever) ends with exit 2 and the file named, before
// any read: never a hang reading or hashing an endless stream.
func TestEndlessFilesRefused(t *testing.T) {
	for _, dev := range []string{"/dev/zero", "/dev/urandom"} {
		if _, err := os.Stat(dev); err != nil {
			t.Skipf("%s: %v", dev, err)
		}
	}
	dir := t.TempDir()
	w := filepath.Join(dir, "world")
	if _, stderr, code := charisbench(t, "", "world", "build", "--subjects", "1", "--prompts-per-subject", "1", w); code != exitOK {
		t.Fatalf("world build: exit %d: %s", code, stderr)
	}
	models, err := os.ReadFile(filepath.Join(w, "models.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(w, "urandom.yaml")
	text := strings.Replace(string(models), "path: models/identity.onnx", "path: /dev/urandom", 1)
	if text == string(models) {
		t.Fatal("the world's manifest names no models/identity.onnx")
	}
	if err := os.WriteFile(bad, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "/dev/zero"}, "/dev/zero is not a regular file"},
		{[]string{"score", "--manifest", "/dev/zero", "--models", filepath.Join(w, "models.yaml"), "--out", filepath.Join(dir, "a"), "--no-cache"}, "/dev/zero is not a regular file"},
		{[]string{"score", "--manifest", filepath.Join(w, "manifest.jsonl"), "--models", "/dev/zero", "--out", filepath.Join(dir, "b"), "--no-cache"}, "/dev/zero is not a regular file"},
		{[]string{"score", "--manifest", filepath.Join(w, "manifest.jsonl"), "--models", filepath.Join(w, "models.yaml"), "--config", "/dev/zero", "--out", filepath.Join(dir, "c"), "--no-cache"}, "/dev/zero is not a regular file"},
		{[]string{"score", "--manifest", filepath.Join(w, "manifest.jsonl"), "--models", bad, "--out", filepath.Join(dir, "d"), "--no-cache"}, "/dev/urandom is not a regular file"},
	} {
		_, stderr, code := charisbench(t, "", c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %s", c.args, code, stderr)
		}
	}
}
