package encoder

import (
	"encoding/json"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
)

const (
	repoRoot     = "../.."
	tinyManifest = repoRoot + "/testdata/models/models.yaml"
	// requireEnv makes a missing ONNX Runtime a failure instead of a skip (make test sets it).
	requireEnv = "CHARISBENCH_REQUIRE_ORT"
	// outputTol bounds |ORT − PyTorch| on the same model: both compute in float32 with
	// different kernels and summation orders.
	outputTol = 2e-4
)

// openRuntime opens a CPU runtime, or skips the test when no ONNX Runtime library is
// installed and the caller did not require one.
func openRuntime(t testing.TB, opt Options) *Runtime {
	t.Helper()
	if _, err := FindLibrary(); err != nil && opt.Library == "" {
		if os.Getenv(requireEnv) != "" {
			t.Fatalf("%v (%s is set, so ONNX Runtime is required)", err, requireEnv)
		}
		t.Skipf("ONNX Runtime not installed (run `make test`, which installs it): %v", err)
	}
	rt, err := Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

func loadManifest(t testing.TB, path string) *charis.ModelManifest {
	t.Helper()
	m, err := charis.LoadModelManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func load(t testing.TB, rt *Runtime, m *charis.ModelManifest, role charis.Role) *Session {
	t.Helper()
	s, err := rt.Load(m, role)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testImages(t testing.TB, n int) []*image.RGBA {
	t.Helper()
	paths, _ := filepath.Glob(repoRoot + "/charis/preprocess/testdata/*.png")
	var imgs []*image.RGBA
	for _, p := range paths {
		if strings.Contains(p, ".resize_") || strings.Contains(p, ".pipe_") {
			continue
		}
		img, err := imageio.ReadFile(p, imageio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	for len(imgs) < n {
		imgs = append(imgs, imgs[len(imgs)%4])
	}
	return imgs[:n]
}

func TestSignaturesFromModel(t *testing.T) {
	rt := openRuntime(t, Options{})
	m := loadManifest(t, tinyManifest)
	for _, c := range []struct {
		role          charis.Role
		input, output string
		outRank       int
	}{
		{charis.RoleIdentity, "pixel_values", "last_hidden_state", 3},
		{charis.RoleCLIPImage, "pixel_values", "image_embeds", 2},
		{charis.RoleCLIPText, "input_ids", "text_embeds", 2},
		{charis.RoleSegmenter, "pixel_values", "logits", 4},
		{charis.RoleIQA, "pixel_values", "score", 1},
	} {
		s := load(t, rt, m, c.role)
		in, _ := s.InputInfo()
		out, dims := s.OutputInfo()
		if in != c.input || out != c.output || len(dims) != c.outRank {
			t.Errorf("%s: input %q output %q %v, want %q %q rank %d", c.role, in, out, dims, c.input, c.output, c.outRank)
		}
	}
}

func TestShapesAndBatching(t *testing.T) {
	rt := openRuntime(t, Options{BatchSize: 2}) // 5 images -> batches of 2, 2, 1
	m := loadManifest(t, tinyManifest)
	imgs := testImages(t, 5)
	want := map[charis.Role][]int{
		charis.RoleIdentity:  {5, 1 + 2 + 256, 48},
		charis.RoleCLIPImage: {5, 32},
		charis.RoleSegmenter: {5, 1, 64, 64},
		charis.RoleIQA:       {5},
	}
	for role, shape := range want {
		s := load(t, rt, m, role)
		all, err := s.EncodeImages(imgs)
		if err != nil {
			t.Fatal(err)
		}
		if !equalInts(all.Shape, shape) {
			t.Fatalf("%s: shape %v, want %v", role, all.Shape, shape)
		}
		for i, img := range imgs { // batching must not change any row
			one, err := s.EncodeImages([]*image.RGBA{img})
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(one.Row(0), all.Row(i)); d > 1e-5 {
				t.Fatalf("%s: image %d alone differs from its batched row by %g", role, i, d)
			}
		}
	}
	text := load(t, rt, m, charis.RoleCLIPText)
	out, err := text.EncodeTexts([]string{"a", "b c", "the character, turned left", "", "dog"})
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(out.Shape, []int{5, 32}) {
		t.Fatalf("text shape %v", out.Shape)
	}
}

// TestInterrupt: once a session is interrupted (from another goroutine, while encoding),
// encoding fails with ErrInterrupted instead of running on; another session is not touched.
func TestInterrupt(t *testing.T) {
	rt := openRuntime(t, Options{BatchSize: 1})
	m := loadManifest(t, tinyManifest)
	id, clipI := load(t, rt, m, charis.RoleIdentity), load(t, rt, m, charis.RoleCLIPImage)
	imgs := testImages(t, 4)
	if _, err := id.EncodeImages(imgs); err != nil {
		t.Fatal(err)
	}
	go id.Interrupt()
	var err error
	for i := 0; i < 10000 && err == nil; i++ {
		_, err = id.EncodeImages(imgs)
	}
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("after Interrupt: %v, want ErrInterrupted", err)
	}
	id.Interrupt() // a second call is harmless
	if _, err := clipI.EncodeImages(imgs); err != nil {
		t.Fatalf("the other session: %v", err)
	}
}

// TestMatchesPyTorch: decode + preprocess + ONNX Runtime reproduces the PyTorch model fed
// by a Hugging Face-style PIL pipeline (reference.json, written by tools/encoders/tiny.py).
func TestMatchesPyTorch(t *testing.T) {
	rt := openRuntime(t, Options{})
	m := loadManifest(t, tinyManifest)
	data, err := os.ReadFile(repoRoot + "/testdata/models/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Image       string      `json:"image"`
		Prompts     []string    `json:"prompts"`
		IdentityCLS []float32   `json:"identity_cls"`
		LastPatch   []float32   `json:"identity_last_patch"`
		CLIPImage   []float32   `json:"clip_image"`
		CLIPText    [][]float32 `json:"clip_text"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	img, err := imageio.ReadFile(filepath.Join(repoRoot, ref.Image), imageio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := load(t, rt, m, charis.RoleIdentity)
	out, err := id.EncodeImages([]*image.RGBA{img})
	if err != nil {
		t.Fatal(err)
	}
	cls, patches, grid := id.Tokens(out, 0)
	if grid != 16 || len(patches) != 256*48 {
		t.Fatalf("grid %d, %d patch values", grid, len(patches))
	}
	check := func(name string, got, want []float32) {
		t.Helper()
		if d := maxAbsDiff(got, want); len(got) != len(want) || d > outputTol {
			t.Errorf("%s: max |ORT − PyTorch| = %g (tol %g), lengths %d/%d", name, d, outputTol, len(got), len(want))
		}
	}
	check("identity CLS", cls, ref.IdentityCLS)
	check("identity last patch", patches[len(patches)-48:], ref.LastPatch)
	ci := load(t, rt, m, charis.RoleCLIPImage)
	if out, err = ci.EncodeImages([]*image.RGBA{img}); err != nil {
		t.Fatal(err)
	}
	check("clip image", out.Row(0), ref.CLIPImage)
	ct := load(t, rt, m, charis.RoleCLIPText)
	if out, err = ct.EncodeTexts(ref.Prompts); err != nil {
		t.Fatal(err)
	}
	for i := range ref.Prompts {
		check("clip text "+ref.Prompts[i], out.Row(i), ref.CLIPText[i])
	}
}

func TestCUDAOnCPUBuild(t *testing.T) {
	openRuntime(t, Options{}) // skip cleanly without a library
	lib, _ := FindLibrary()
	if os.Getenv(LibraryEnv) != "" && !strings.Contains(lib, ".deps") {
		t.Skip("a custom ONNX Runtime build may have CUDA; this test covers the CPU-only npm build")
	}
	_, err := Open(Options{Device: CUDA})
	if err == nil {
		t.Fatal("--device cuda succeeded on the CPU-only ONNX Runtime build")
	}
	for _, want := range []string{"CUDA", LibraryEnv, "--device cpu"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	rt, err := Open(Options{Device: Auto})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if rt.Device() != CPU {
		t.Fatalf("auto chose %s on a CPU-only build", rt.Device())
	}
}

func TestRoleMisuse(t *testing.T) {
	rt := openRuntime(t, Options{})
	m := loadManifest(t, tinyManifest)
	if _, err := load(t, rt, m, charis.RoleCLIPText).EncodeImages(testImages(t, 1)); !errors.Is(err, ErrRole) {
		t.Errorf("images into a text encoder: %v", err)
	}
	if _, err := load(t, rt, m, charis.RoleIQA).EncodeTexts([]string{"x"}); !errors.Is(err, ErrRole) {
		t.Errorf("prompts into an image encoder: %v", err)
	}
}

// TestManifestModelMismatch: a manifest that contradicts its model is refused at Load,
// naming the manifest line and field.
func TestManifestModelMismatch(t *testing.T) {
	rt := openRuntime(t, Options{})
	orig, err := os.ReadFile(tinyManifest)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(filepath.Dir(tinyManifest))
	for _, c := range []struct {
		name, old, new string
		role           charis.Role
		want           string
	}{
		{"registers", "register_tokens: 2", "register_tokens: 3", charis.RoleIdentity, "encoders[0].output.register_tokens: 259 tokens less 4"},
		{"crop", "      crop: 224\n      crop_rounding: floor\n      interpolation: bicubic\n      rescale: 0.00392156862745098\n      mean: [0.485",
			"      crop: 200\n      crop_rounding: floor\n      interpolation: bicubic\n      rescale: 0.00392156862745098\n      mean: [0.485",
			charis.RoleIdentity, "encoders[0].preprocess: preprocessing gives 200x200 images"},
		{"output name", "name: image_embeds", "name: pooled", charis.RoleCLIPImage, `encoders[1].output.name: the model has no "pooled"`},
		{"context", "context_length: 77", "context_length: 64", charis.RoleCLIPText, "encoders[2].text.context_length: input input_ids has shape [-1 77]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(string(orig), c.old, c.new, 1)
			if text == string(orig) {
				t.Fatalf("replacement %q not found", c.old)
			}
			text = strings.ReplaceAll(text, "path: ", "path: "+abs+"/")
			p := filepath.Join(t.TempDir(), "models.yaml")
			os.WriteFile(p, []byte(text), 0o644)
			_, err := rt.Load(loadManifest(t, p), c.role)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestDefaultsUseTheMachine: with no option set, ONNX Runtime on the CPU gets one intra-op
// thread per core Go may use, the CPU's batch size, and sessions whose idle threads sleep;
// what is set stays.
func TestDefaultsUseTheMachine(t *testing.T) {
	rt := openRuntime(t, Options{})
	if rt.opt.Threads != runtime.GOMAXPROCS(0) || rt.opt.BatchSize != CPUBatchSize {
		t.Errorf("defaults: %d threads, batch %d; want %d, %d", rt.opt.Threads, rt.opt.BatchSize, runtime.GOMAXPROCS(0), CPUBatchSize)
	}
	so, err := rt.sessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer so.Destroy()
	if v, err := so.GetSessionConfigEntry("session.intra_op.allow_spinning"); err != nil || v != "0" {
		t.Errorf("allow_spinning = %q (%v), want 0", v, err)
	}
	set := openRuntime(t, Options{Threads: 1, BatchSize: 3})
	if set.opt.Threads != 1 || set.opt.BatchSize != 3 {
		t.Errorf("set: %d threads, batch %d; want 1, 3", set.opt.Threads, set.opt.BatchSize)
	}
	if _, err := Open(Options{BatchSize: -1}); err == nil {
		t.Error("a negative batch size was accepted")
	}
}
