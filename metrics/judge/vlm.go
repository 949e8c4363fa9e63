package judge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/cache"
)

// Environment variables the vlm backend reads where a flag is not given.
const (
	EnvEndpoint = "CHARISBENCH_VLM_ENDPOINT" // base URL of an OpenAI-compatible API, e.g. http://localhost:8000/v1
	EnvModel    = "CHARISBENCH_VLM_MODEL"
	EnvAPIKey   = "CHARISBENCH_VLM_API_KEY"
)

// VLMOptions configure the vlm backend.
type VLMOptions struct {
	Endpoint    string        // base URL; /chat/completions is appended
	Model       string        // the model name the server knows
	APIKey      string        // sent as a bearer token; empty: none (local servers)
	Concurrency int           // requests in flight; 0: 4
	PerMinute   float64       // request starts per minute; 0: no limit
	Retries     int           // further tries after a 429, a 5xx or a timeout; <0: none; 0: 4
	Backoff     time.Duration // wait before the first retry, doubled for each next; 0: 2 s
	Timeout     time.Duration // per request; 0: 2 min
	Seed        int           // sent with temperature 0, for servers that honour it
	Cache       *cache.Cache  // answers by (model, protocol, seed, question, image hashes); nil: none
	Client      *http.Client  // nil: http.DefaultClient
}

// VLM is the vlm backend: it asks a vision-language model server the protocol's questions
// through the OpenAI chat-completions API, images as base64 data URLs, the answer held to
// a JSON schema.
type VLM struct {
	opt  VLMOptions
	sem  chan struct{}
	mu   sync.Mutex
	next time.Time // earliest start of the next request (PerMinute)
}

// NewVLM checks the options and fills defaults.
func NewVLM(opt VLMOptions) (*VLM, error) {
	if opt.Endpoint == "" {
		return nil, fmt.Errorf("vlm: no endpoint (--vlm-endpoint or $%s), such as http://localhost:8000/v1", EnvEndpoint)
	}
	if !strings.HasPrefix(opt.Endpoint, "http://") && !strings.HasPrefix(opt.Endpoint, "https://") {
		return nil, fmt.Errorf("vlm: endpoint %q is not an http(s) URL", opt.Endpoint)
	}
	if opt.Model == "" {
		return nil, fmt.Errorf("vlm: no model (--vlm-model or $%s)", EnvModel)
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 4
	}
	switch {
	case opt.Retries == 0:
		opt.Retries = 4
	case opt.Retries < 0:
		opt.Retries = 0
	}
	if opt.Backoff <= 0 {
		opt.Backoff = 2 * time.Second
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 2 * time.Minute
	}
	if opt.Client == nil {
		opt.Client = http.DefaultClient
	}
	return &VLM{opt: opt, sem: make(chan struct{}, opt.Concurrency)}, nil
}

// Name is the backend's name.
func (v *VLM) Name() string { return "vlm" }

// Model is the model asked.
func (v *VLM) Model() string { return v.opt.Model }

const systemPrompt = `You judge whether a generated image keeps the identity of the subject in a reference image.
The prompt the image was generated from may ask for changes (pose, place, light, style, or a
property of the subject). Go top down: first the subject's type and style, then each listed
attribute, then each listed feature. For each, answer with one verdict:
  "kept"             the same as in the reference;
  "changed_as_asked" changed, and the prompt asks for this change;
  "changed_unasked"  changed although the prompt does not ask for it;
  "not_visible"      it cannot be seen in the generated image.
Name concrete values: "was" what it is in the reference, "became" what it is in the generated
image (for example was "red hat", became "blue hat"). Do not score similarity. Answer every
listed check exactly once, in JSON only.`

// question is the user text for a sample: the prompt and the checks to answer.
func question(s *Sample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The subject is a %s. The first image is the reference, the second the generated image.\n", s.Type.Name)
	fmt.Fprintf(&b, "Prompt: %q\nChecks (attribute: what to look at):\n", s.Prompt)
	for _, a := range s.Type.Checks() {
		fmt.Fprintf(&b, "- %s (%s): %s\n", a.Name, a.Level, a.Ask)
	}
	return b.String()
}

// answerSchema is the JSON schema the answer must follow.
func answerSchema(s *Sample) map[string]any {
	var names []string
	for _, a := range s.Type.Checks() {
		names = append(names, a.Name)
	}
	str := map[string]any{"type": "string"}
	return map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"checks"},
		"properties": map[string]any{"checks": map[string]any{
			"type": "array",
			"items": map[string]any{
				"type": "object", "additionalProperties": false,
				"required": []string{"attribute", "verdict", "was", "became", "evidence"},
				"properties": map[string]any{
					"attribute": map[string]any{"type": "string", "enum": names},
					"verdict":   map[string]any{"type": "string", "enum": charis.Verdicts},
					"was":       str, "became": str, "evidence": str,
				},
			},
		}},
	}
}

func dataURL(im Image) string {
	return "data:" + im.MIME() + ";base64," + base64.StdEncoding.EncodeToString(im.Data)
}

// request is the chat-completions body for a sample.
func (v *VLM) request(s *Sample) ([]byte, error) {
	img := func(im Image) map[string]any {
		return map[string]any{"type": "image_url", "image_url": map[string]any{"url": dataURL(im)}}
	}
	return json.Marshal(map[string]any{
		"model": v.opt.Model, "temperature": 0, "seed": v.opt.Seed,
		"messages": []any{
			map[string]any{"role": "system", "content": systemPrompt},
			map[string]any{"role": "user", "content": []any{
				map[string]any{"type": "text", "text": question(s)}, img(s.Reference), img(s.Generated)}},
		},
		"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{
			"name": "identity_judgment", "strict": true, "schema": answerSchema(s)}},
	})
}

const cacheKind = "judge-vlm-v1"

// cacheKey identifies a question: model, protocol, seed, the question's text (prompt and
// checks) and both images.
func (v *VLM) cacheKey(s *Sample) string {
	h := sha256.New()
	fmt.Fprintln(h, Protocol, v.opt.Model, v.opt.Seed, s.Reference.SHA256, s.Generated.SHA256)
	io.WriteString(h, question(s))
	return hex.EncodeToString(h.Sum(nil))
}

// Judge asks the server (or the cache) and parses the answer. A malformed answer is the
// sample's error and is not cached.
func (v *VLM) Judge(ctx context.Context, s *Sample) ([]charis.JudgeCheck, error) {
	key := v.cacheKey(s)
	if v.opt.Cache != nil {
		if b, ok, err := v.opt.Cache.Get(cacheKind, key); err == nil && ok {
			if checks, err := parseAnswer(string(b)); err == nil {
				return checks, nil
			}
		}
	}
	body, err := v.request(s)
	if err != nil {
		return nil, err
	}
	content, err := v.ask(ctx, body)
	if err != nil {
		return nil, err
	}
	checks, err := parseAnswer(content)
	if err != nil {
		return nil, err
	}
	if v.opt.Cache != nil {
		if err := v.opt.Cache.Put(cacheKind, key, []byte(content)); err != nil {
			return nil, fmt.Errorf("vlm: caching the answer: %w", err)
		}
	}
	return checks, nil
}

// parseAnswer reads the model's JSON answer.
func parseAnswer(content string) ([]charis.JudgeCheck, error) {
	var a struct {
		Checks []charis.JudgeCheck `json:"checks"`
	}
	dec := json.NewDecoder(strings.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("vlm: malformed answer (%v): %.200q", err, content)
	}
	if len(a.Checks) == 0 {
		return nil, fmt.Errorf("vlm: malformed answer (no checks): %.200q", content)
	}
	return a.Checks, nil
}

// retryable is a failure worth another try: a 429, a 5xx, a timeout.
type retryable struct {
	err   error
	after time.Duration // the server's Retry-After; 0: none
}

func (r *retryable) Error() string { return r.err.Error() }

// ask posts the body, waiting for the rate limit and a free slot, retrying with backoff.
func (v *VLM) ask(ctx context.Context, body []byte) (string, error) {
	select {
	case v.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-v.sem }()
	wait := v.opt.Backoff
	for attempt := 0; ; attempt++ {
		if err := v.throttle(ctx); err != nil {
			return "", err
		}
		content, err := v.post(ctx, body)
		var r *retryable
		if err == nil || !errors.As(err, &r) {
			return content, err
		}
		if attempt == v.opt.Retries {
			return "", fmt.Errorf("%w (after %d tries)", err, attempt+1)
		}
		d := wait
		if r.after > 0 {
			d = r.after
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return "", ctx.Err()
		}
		wait *= 2
	}
}

// throttle waits until a request may start under PerMinute.
func (v *VLM) throttle(ctx context.Context) error {
	if v.opt.PerMinute <= 0 {
		return nil
	}
	v.mu.Lock()
	now := time.Now()
	start := v.next
	if start.Before(now) {
		start = now
	}
	v.next = start.Add(time.Duration(float64(time.Minute) / v.opt.PerMinute))
	v.mu.Unlock()
	select {
	case <-time.After(time.Until(start)):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// post makes one request and returns the answer's content.
func (v *VLM) post(ctx context.Context, body []byte) (string, error) {
	rctx, cancel := context.WithTimeout(ctx, v.opt.Timeout)
	defer cancel()
	url := strings.TrimSuffix(v.opt.Endpoint, "/") + "/chat/completions"
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if v.opt.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+v.opt.APIKey)
	}
	resp, err := v.opt.Client.Do(req)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return "", &retryable{err: fmt.Errorf("vlm: %s: no answer within %s", url, v.opt.Timeout)}
		}
		return "", fmt.Errorf("vlm: %s: %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return "", &retryable{err: fmt.Errorf("vlm: %s: no answer within %s", url, v.opt.Timeout)}
		}
		return "", fmt.Errorf("vlm: %s: reading the answer: %w", url, err)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		after, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return "", &retryable{err: fmt.Errorf("vlm: %s: %s: %.200s", url, resp.Status, b), after: time.Duration(after) * time.Second}
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("vlm: %s: %s: %.300s", url, resp.Status, b)
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.Choices) == 0 {
		return "", fmt.Errorf("vlm: malformed response from %s (want chat-completions JSON with a choice): %.200q", url, b)
	}
	return out.Choices[0].Message.Content, nil
}
