package main

import (
	"bytes"
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/internal/ortest"
	"github.com/charisbench/charisbench/metrics/encoder"
)

const (
	root         = "../.."
	tinyManifest = root + "/testdata/models/models.yaml"
)

// charisbench runs one command line in-process.
func charisbench(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// needORT skips a test that runs encoders when ONNX Runtime is not installed, unless
// make test (which installs it) required it.
func needORT(t *testing.T) { ortest.Need(t) }

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-command"},
		{"embed", "--bogus"},
		{"preprocess", "x.png"}, // no -o
		{"preprocess", "--resize", "10", "--crop", "20", "x.png", "-o", "y.png"}, // crop > resize
		{"preprocess", "--resize", "10", "missing.png", "-o", "y.png"},           // unreadable image
		{"models", "verify"}, // no manifest
		{"models", "verify", "no-such-manifest.yaml"},
		{"tokenize", "--context-length", "1"},
	} {
		_, stderr, code := charisbench(t, "", args...)
		if code != exitUsage || !strings.HasPrefix(stderr, "charisbench: ") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with a message", args, code, stderr)
		}
	}
}

func TestTokenize(t *testing.T) {
	stdout, _, code := charisbench(t, "a photo of a sks dog\n\nTHE  RED\tROBOT\n", "tokenize")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d output lines for 3 input lines", len(lines))
	}
	var ids [][]int
	for _, l := range lines {
		var row []int
		if err := json.Unmarshal([]byte(l), &row); err != nil || len(row) != 77 {
			t.Fatalf("line %q: %v, %d ids", l, err, len(row))
		}
		ids = append(ids, row)
	}
	// openai/CLIP: "a photo of a sks dog" -> 320 1125 539 320 48136 1929
	want := []int{49406, 320, 1125, 539, 320, 48136, 1929, 49407, 0}
	for i, w := range want {
		if ids[0][i] != w {
			t.Fatalf("ids %v, want prefix %v", ids[0][:9], want)
		}
	}
	if ids[1][0] != 49406 || ids[1][1] != 49407 {
		t.Fatalf("empty line: %v", ids[1][:3])
	}
}

// TestPreprocessMatchesPillow: the command writes exactly Pillow's pixels.
func TestPreprocessMatchesPillow(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "seen.png")
	src := root + "/charis/preprocess/testdata/noise_97x61.png"
	_, stderr, code := charisbench(t, "", "preprocess", "--resize", "31", "--crop", "30", "--crop-rounding", "half_even", src, "-o", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, err := imageio.ReadFile(out, imageio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := imageio.ReadFile(root+"/charis/preprocess/testdata/noise_97x61.pipe_31_30_half_even.png", imageio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Rect != want.Rect || !bytes.Equal(got.Pix, want.Pix) {
		t.Fatalf("preprocess output differs from Pillow's (%v vs %v)", got.Rect, want.Rect)
	}
}

func TestPreprocessFromManifest(t *testing.T) {
	out := filepath.Join(t.TempDir(), "seen.png")
	_, stderr, code := charisbench(t, "", "preprocess", "--manifest", tinyManifest, "--role", "segmenter",
		root+"/charis/imageio/testdata/rgb.bmp", "-o", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	img, err := imageio.ReadFile(out, imageio.Options{})
	if err != nil || img.Rect != image.Rect(0, 0, 64, 64) {
		t.Fatalf("segmenter input %v (err %v), want 64x64 square", img.Rect, err)
	}
}

func TestModelsVerify(t *testing.T) {
	needORT(t)
	stdout, stderr, code := charisbench(t, "", "models", "verify", tinyManifest)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"identity", "last_hidden_state [-1 -1 -1]", "[2 259 48]", "clip_text", "input_ids [-1 77]"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}

	// A model file that no longer matches its hash fails the check: exit 1, naming line and field.
	dir := t.TempDir()
	for _, f := range []string{"identity.onnx", "clip_image.onnx", "clip_text.onnx", "segmenter.onnx", "iqa.onnx", "models.yaml"} {
		data, err := os.ReadFile(filepath.Join(root, "testdata/models", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "iqa.onnx" {
			data = append(data, 0)
		}
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	stdout, _, code = charisbench(t, "", "models", "verify", filepath.Join(dir, "models.yaml"))
	if code != exitFailed || !strings.Contains(stdout, "models.yaml:63: encoders[4].sha256:") {
		t.Fatalf("corrupted model: exit %d\n%s", code, stdout)
	}

	// A malformed manifest is invalid input: exit 2.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\nencoders:\n  - role: identity\n    path: x.onnx\n    sha256: 12\n"), 0o644)
	_, stderr, code = charisbench(t, "", "models", "verify", bad)
	if code != exitUsage || !strings.Contains(stderr, "bad.yaml:5: encoders[0].sha256") {
		t.Fatalf("malformed manifest: exit %d, %s", code, stderr)
	}
}

func TestEmbed(t *testing.T) {
	needORT(t)
	a, b := root+"/charis/imageio/testdata/rgb.bmp", root+"/charis/imageio/testdata/orient1.jpg"
	stdout, stderr, code := charisbench(t, "", "embed", "--models", tinyManifest, "--role", "identity", a, b, a)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out embedOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 3 || len(out.Items[0].Embedding) != 48 || len(out.Cosine) != 3 {
		t.Fatalf("items %d, dim %d, cosine rows %d", len(out.Items), len(out.Items[0].Embedding), len(out.Cosine))
	}
	if c := out.Cosine[0][2]; c < 1-1e-6 {
		t.Errorf("an image against itself: cosine %v, want 1", c)
	}
	if c := out.Cosine[0][1]; c > 1-1e-6 || c != out.Cosine[1][0] {
		t.Errorf("different images: cosine %v / %v, want < 1 and symmetric", c, out.Cosine[1][0])
	}

	stdout, _, code = charisbench(t, "", "embed", "--models", tinyManifest, "--role", "clip_text", "a red robot", "a blue robot")
	if code != exitOK || !strings.Contains(stdout, `"input": "a red robot"`) {
		t.Fatalf("text embed: exit %d\n%s", code, stdout)
	}
	_, stderr, code = charisbench(t, "", "embed", "--models", tinyManifest, "--role", "segmenter", a)
	if code != exitUsage || !strings.Contains(stderr, "no embeddings") {
		t.Fatalf("segmenter embed: exit %d, %s", code, stderr)
	}
}

func TestCUDAFlagOnCPU(t *testing.T) {
	needORT(t)
	if os.Getenv(encoder.LibraryEnv) != "" {
		t.Skip("a custom ONNX Runtime build may have CUDA")
	}
	_, stderr, code := charisbench(t, "", "embed", "--device", "cuda", "--models", tinyManifest, "--role", "identity",
		root+"/charis/imageio/testdata/rgb.bmp")
	if code != exitUsage || !strings.Contains(stderr, "CUDA") || !strings.Contains(stderr, encoder.LibraryEnv) {
		t.Fatalf("--device cuda on a CPU build: exit %d, %s", code, stderr)
	}
}
