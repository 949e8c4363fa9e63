package judge

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/cache"
)

// transcript is a recorded exchange with a VLM server (testdata/vlm): the answers the
// server gives, in order; the last repeats.
type transcript struct {
	Description string `json:"description"`
	Exchanges   []struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		DelayMS int               `json:"delay_ms"`
		Body    json.RawMessage   `json:"body"`
	} `json:"exchanges"`
}

// server serves a transcript and records the requests it got.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []map[string]any
	auth     []string
}

func serve(t *testing.T, name string) *server {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vlm", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr transcript
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		var req map[string]any
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		ex := tr.Exchanges[min(len(s.requests), len(tr.Exchanges))-1]
		s.mu.Unlock()
		select {
		case <-time.After(time.Duration(ex.DelayMS) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		for k, v := range ex.Headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ex.Status)
		w.Write(ex.Body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// characterSample is a charis-world-like sample with two small PNG files' bytes.
func characterSample(t *testing.T) *Sample {
	t.Helper()
	typ, err := DefaultKB().TypeFor("character")
	if err != nil {
		t.Fatal(err)
	}
	png := func(b byte) Image {
		data := append([]byte("\x89PNG\r\n\x1a\n"), b, b, b)
		return Image{Data: data, SHA256: strings.Repeat(string('a'+b%26), 64)}
	}
	return &Sample{ID: "s1", Prompt: "the character, behind a fence, in warm light", Type: typ, Reference: png(1), Generated: png(2)}
}

func newVLM(t *testing.T, srv *server, mod func(*VLMOptions)) *VLM {
	t.Helper()
	opt := VLMOptions{Endpoint: srv.URL + "/v1", Model: "Qwen/Qwen2.5-VL-7B-Instruct", APIKey: "sk-test", Seed: 7,
		Backoff: time.Millisecond, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&opt)
	}
	v, err := NewVLM(opt)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVLMAnswer: a realistic answer becomes a judgment with each check's verdict and
// evidence; the request carries the model, temperature 0, the seed, the schema, the key
// and both images as base64 data URLs.
func TestVLMAnswer(t *testing.T) {
	srv := serve(t, "answer")
	s := characterSample(t)
	j, err := Judge(context.Background(), newVLM(t, srv, nil), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Checks) != 11 || j.Backend != "vlm" || j.Protocol != Protocol || j.Type != "character" {
		t.Fatalf("judgment %+v", j)
	}
	verdicts := map[string]string{}
	for _, c := range j.Checks {
		verdicts[c.Attribute] = c.Verdict
	}
	if verdicts["accessory"] != charis.VerdictDrifted || verdicts["pattern"] != charis.VerdictNotVisible || verdicts["head_shape"] != charis.VerdictKept {
		t.Fatalf("verdicts %v", verdicts)
	}
	if c := j.Checks[0]; c.Attribute != "type" || c.Level != charis.LevelType {
		t.Fatalf("first check %+v, want the type level first", c)
	}
	if c := j.Checks[10]; c.Attribute != "legs_color" || c.Level != charis.LevelFeature {
		t.Fatalf("last check %+v", c)
	}
	// 8 kept, 2 drifted; not visible left out.
	if j.IC == nil || *j.IC != 0.8 {
		t.Fatalf("judge IC %v, want 0.8", j.IC)
	}
	req := srv.requests[0]
	if req["model"] != "Qwen/Qwen2.5-VL-7B-Instruct" || req["temperature"] != 0.0 || req["seed"] != 7.0 {
		t.Fatalf("request model/temperature/seed: %v %v %v", req["model"], req["temperature"], req["seed"])
	}
	if srv.auth[0] != "Bearer sk-test" {
		t.Fatalf("authorization %q", srv.auth[0])
	}
	rf := req["response_format"].(map[string]any)
	if rf["type"] != "json_schema" {
		t.Fatalf("response_format %v", rf)
	}
	msgs := req["messages"].([]any)
	user := msgs[1].(map[string]any)["content"].([]any)
	if len(user) != 3 {
		t.Fatalf("user content has %d parts, want text and two images", len(user))
	}
	text := user[0].(map[string]any)["text"].(string)
	if !strings.Contains(text, s.Prompt) || !strings.Contains(text, "torso_color") {
		t.Fatalf("question does not carry the prompt and checks: %s", text)
	}
	for i, im := range []Image{s.Reference, s.Generated} {
		url := user[1+i].(map[string]any)["image_url"].(map[string]any)["url"].(string)
		if want := "data:image/png;base64," + base64.StdEncoding.EncodeToString(im.Data); url != want {
			t.Fatalf("image %d: %.60s, want %.60s", i, url, want)
		}
	}
}

// TestVLMCache: a second judgment of the same question is answered from the cache, with
// no request; another seed asks again.
func TestVLMCache(t *testing.T) {
	srv := serve(t, "answer")
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := characterSample(t)
	for range 2 {
		if _, err := Judge(context.Background(), newVLM(t, srv, func(o *VLMOptions) { o.Cache = c }), s); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.count(); n != 1 {
		t.Fatalf("%d requests for two identical judgments, want 1", n)
	}
	if _, err := Judge(context.Background(), newVLM(t, srv, func(o *VLMOptions) { o.Cache = c; o.Seed = 8 }), s); err != nil {
		t.Fatal(err)
	}
	if n := srv.count(); n != 2 {
		t.Fatalf("%d requests after another seed, want 2", n)
	}
}

// TestVLMFailures: a malformed answer, an answer missing a check, a 400, and a server
// that never answers in time are each the sample's error, saying what went wrong; 429 and
// 503 are retried (Retry-After honoured) until the answer comes.
func TestVLMFailures(t *testing.T) {
	s := characterSample(t)
	for _, tc := range []struct {
		name, want string
		requests   int
		mod        func(*VLMOptions)
	}{
		{"malformed", "malformed answer", 1, nil},
		{"missing_check", `did not answer "legs_color"`, 1, nil},
		{"bad_request", "400 Bad Request", 1, nil},
		{"timeout", "no answer within 50ms (after 3 tries)", 3, func(o *VLMOptions) { o.Timeout = 50 * time.Millisecond; o.Retries = 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.name)
			_, err := Judge(context.Background(), newVLM(t, srv, tc.mod), s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if n := srv.count(); n != tc.requests {
				t.Fatalf("%d requests, want %d", n, tc.requests)
			}
		})
	}
	t.Run("rate_limited", func(t *testing.T) {
		srv := serve(t, "rate_limited")
		j, err := Judge(context.Background(), newVLM(t, srv, nil), s)
		if err != nil {
			t.Fatal(err)
		}
		if n := srv.count(); n != 3 || len(j.Checks) != 11 {
			t.Fatalf("%d requests, %d checks; want 3 (429, 503, answer) and 11", n, len(j.Checks))
		}
	})
	t.Run("retries exhausted", func(t *testing.T) {
		srv := serve(t, "rate_limited")
		_, err := Judge(context.Background(), newVLM(t, srv, func(o *VLMOptions) { o.Retries = -1 }), s)
		if err == nil || !strings.Contains(err.Error(), "429") {
			t.Fatalf("error %v, want the 429", err)
		}
	})
}

// TestVLMOptions: a missing endpoint or model is named.
func TestVLMOptions(t *testing.T) {
	if _, err := NewVLM(VLMOptions{Model: "m"}); err == nil || !strings.Contains(err.Error(), EnvEndpoint) {
		t.Fatalf("no endpoint: %v", err)
	}
	if _, err := NewVLM(VLMOptions{Endpoint: "localhost:8000"}); err == nil || !strings.Contains(err.Error(), "http") {
		t.Fatalf("bad endpoint: %v", err)
	}
	if _, err := NewVLM(VLMOptions{Endpoint: "http://x/v1"}); err == nil || !strings.Contains(err.Error(), EnvModel) {
		t.Fatalf("no model: %v", err)
	}
}

// TestKB: the built-in knowledge base parses, maps classes to types (unknown: object), and
// a user file replaces a type by name; a bad file is named with the field.
func TestKB(t *testing.T) {
	kb := DefaultKB()
	for class, want := range map[string]string{"character": "character", "Dog": "dog", "backpack": "wearable", "spaceship": "object", "": "object"} {
		typ, err := kb.TypeFor(class)
		if err != nil || typ.Name != want {
			t.Fatalf("class %q: %v %v, want %s", class, typ, err, want)
		}
	}
	dir := t.TempDir()
	user := filepath.Join(dir, "kb.yaml")
	os.WriteFile(user, []byte("version: 1\ntypes:\n  - name: dog\n    classes: [dog, corgi]\n    attributes:\n      - {name: ears, level: attribute, ask: the ears}\n"), 0o644)
	kb2, err := LoadKB(user)
	if err != nil {
		t.Fatal(err)
	}
	typ, _ := kb2.TypeFor("corgi")
	if typ.Name != "dog" || len(typ.Checks()) != 3 {
		t.Fatalf("user type: %+v", typ)
	}
	os.WriteFile(user, []byte("version: 1\ntypes:\n  - name: dog\n    classes: [dog]\n    attributes:\n      - {name: ears, level: part, ask: the ears}\n"), 0o644)
	if _, err := LoadKB(user); err == nil || !strings.Contains(err.Error(), `level "part"`) || !strings.Contains(err.Error(), user) {
		t.Fatalf("bad level: %v", err)
	}
}
