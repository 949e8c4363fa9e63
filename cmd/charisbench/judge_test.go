package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJudgeCommand: charisbench judge asks an OpenAI-compatible server (a recorded answer
// served locally) about each manifest row and prints the drifted attributes per variant;
// a missing endpoint is named.
func TestJudgeCommand(t *testing.T) {
	tr, err := os.ReadFile("../../metrics/judge/testdata/vlm/answer.json")
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Exchanges []struct {
			Body json.RawMessage `json:"body"`
		} `json:"exchanges"`
	}
	if err := json.Unmarshal(tr, &rec); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(rec.Exchanges[0].Body)
	}))
	defer srv.Close()
	dir := t.TempDir()
	for _, f := range []string{"r.png", "g.png"} {
		os.WriteFile(filepath.Join(dir, f), append([]byte("\x89PNG\r\n\x1a\n"), f...), 0o644)
	}
	manifest := filepath.Join(dir, "m.jsonl")
	os.WriteFile(manifest, []byte(`{"id":"a","subject":"s","variant":"v","reference":"r.png","generated":"g.png","prompt":"the character, at night"}`+"\n"), 0o644)
	out := filepath.Join(dir, "out")
	stdout, stderr, code := charisbench(t, "", "judge", "--manifest", manifest, "--out", out, "--no-cache", "--class", "character",
		"--vlm-endpoint", srv.URL+"/v1", "--vlm-model", "test-vlm")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "| v | 1 | 0 | 0.800 | accessory (1), torso_color (1) |") {
		t.Fatalf("table:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(out, "judgments.jsonl")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CHARISBENCH_VLM_ENDPOINT", "")
	if _, stderr, code := charisbench(t, "", "judge", "--manifest", manifest, "--out", out, "--no-cache"); code == exitOK || !strings.Contains(stderr, "CHARISBENCH_VLM_ENDPOINT") {
		t.Fatalf("no endpoint: exit %d, %s", code, stderr)
	}
}
