package judge

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/world"
)

// TestVLMOracle measures the vlm backend's code path on charis-world with an ORACLE server:
// it answers each request from the ground truth of the sample whose generated image the
// request carries (found by the image's sha256). It says nothing of any real VLM's
// judgement; it shows that requests, answers, ordering and the agreement computation lose
// nothing: every verdict must come back equal to the truth.
func TestVLMOracle(t *testing.T) {
	dir := t.TempDir()
	var perturbs []world.Perturbation
	for _, p := range []string{"identity_swap@1", "recolour@1"} {
		pp, _ := world.ParsePerturbation(p)
		perturbs = append(perturbs, pp)
	}
	if err := world.Build(dir, world.BuildOptions{Subjects: 4, PromptsPerSubject: 2, Seed: 4, Perturbations: perturbs}); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "manifest.jsonl")
	samples, err := charis.ReadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	truthByImage := map[string]map[string]string{}
	for i := range samples {
		b, err := os.ReadFile(filepath.Join(dir, samples[i].Generated))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		if truthByImage[hex.EncodeToString(h[:])], err = Truth(&samples[i]); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct {
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		var parts []struct {
			ImageURL struct {
				URL string `json:"url"`
			} `json:"image_url"`
		}
		json.Unmarshal(req.Messages[1].Content, &parts)
		_, b64, _ := strings.Cut(parts[2].ImageURL.URL, ";base64,")
		img, _ := base64.StdEncoding.DecodeString(b64)
		h := sha256.Sum256(img)
		truth, ok := truthByImage[hex.EncodeToString(h[:])]
		if !ok {
			http.Error(w, "oracle: unknown generated image", http.StatusBadRequest)
			return
		}
		var checks []charis.JudgeCheck
		for name, v := range truth {
			checks = append(checks, charis.JudgeCheck{Attribute: name, Verdict: v, Evidence: "oracle"})
		}
		content, _ := json.Marshal(map[string]any{"checks": checks})
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": string(content)}}}})
	}))
	defer srv.Close()
	v, err := NewVLM(VLMOptions{Endpoint: srv.URL + "/v1", Model: "oracle", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), RunOptions{Manifest: manifest, Out: filepath.Join(dir, "judge"), Backend: v, KB: DefaultKB(), MaxFileBytes: 1 << 20, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	agr, err := Agreement(samples, res)
	if err != nil {
		t.Fatal(err)
	}
	if len(agr) != 3 {
		t.Fatalf("%d variants judged, want 3: %+v", len(agr), res[0])
	}
	for _, a := range agr {
		if a.Samples != 8 || a.Agree != a.N || a.N != 8*11 || a.Flagged != a.Changed {
			t.Fatalf("oracle through the vlm path: %+v", a)
		}
	}
}
