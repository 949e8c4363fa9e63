package judge

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
)

// TestRunManifest: every manifest row gets a line in judgments.jsonl, in order; a row
// whose image is missing is that row's error and the others are judged; the summary counts
// drift per attribute.
func TestRunManifest(t *testing.T) {
	srv := serve(t, "answer")
	dir := t.TempDir()
	for _, f := range []string{"r.png", "g1.png", "g2.png"} {
		os.WriteFile(filepath.Join(dir, f), append([]byte("\x89PNG\r\n\x1a\n"), f...), 0o644)
	}
	rows := []charis.Sample{
		{ID: "a", Subject: "s", Variant: "v", Reference: "r.png", Generated: "g1.png", Prompt: "the character, at night", Class: "character"},
		{ID: "b", Subject: "s", Variant: "v", Reference: "r.png", Generated: "missing.png", Prompt: "the character", Class: "character"},
		{ID: "c", Subject: "s", Variant: "w", Reference: "r.png", Generated: "g2.png", Prompt: "the character", Class: "character"},
	}
	var b strings.Builder
	for _, r := range rows {
		line, _ := json.Marshal(r)
		b.Write(append(line, '\n'))
	}
	manifest := filepath.Join(dir, "manifest.jsonl")
	os.WriteFile(manifest, []byte(b.String()), 0o644)
	res, err := Run(context.Background(), RunOptions{Manifest: manifest, Out: filepath.Join(dir, "out"), Backend: newVLM(t, srv, nil),
		KB: DefaultKB(), MaxFileBytes: 1 << 20, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != charis.StatusOK || res[1].Status != charis.StatusError || !strings.Contains(res[1].Reason, "missing.png: file not found") || res[2].ID != "c" {
		t.Fatalf("results %+v", res)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out", "judgments.jsonl"))
	if err != nil || strings.Count(string(data), "\n") != 3 {
		t.Fatalf("judgments.jsonl: %v, %d lines", err, strings.Count(string(data), "\n"))
	}
	sum := Summarize(res)
	if len(sum) != 2 || sum[0].Variant != "v" || sum[0].Judged != 1 || sum[0].Failed != 1 || sum[0].IC != 0.8 {
		t.Fatalf("summary %+v", sum)
	}
	if d := sum[0].Drifted; len(d) != 2 || d[0] != (charis.DriftCount{Attribute: "accessory", Count: 1}) || d[1] != (charis.DriftCount{Attribute: "torso_color", Count: 1}) {
		t.Fatalf("drifted %+v", d)
	}
}
