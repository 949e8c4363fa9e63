package flowdit

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charisbench/charisbench/charis/clip"
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's graph DSL reads best unqualified
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// testConfig is smaller than Tiny so tests stay fast on the pure-Go backend.
var testConfig = Config{ImageSize: 8, Channels: 3, Patch: 4, Dim: 16, Depth: 1, Heads: 2, TextLen: 4, TextVocab: 64, TextDepth: 1}

func backend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randBatch(r *rand.Rand, c Config, n int) Batch {
	b := Batch{N: n, Targets: make([]float32, n*c.ImageSize*c.ImageSize*c.Channels),
		References: make([]float32, n*c.ImageSize*c.ImageSize*c.Channels), IDs: make([]int32, n*c.TextLen)}
	for i := range b.Targets {
		b.Targets[i] = float32(2*r.Float64() - 1)
		b.References[i] = float32(2*r.Float64() - 1)
	}
	for i := range b.IDs {
		b.IDs[i] = int32(r.IntN(c.TextVocab))
	}
	return b
}

func TestForwardShape(t *testing.T) {
	be := backend(t)
	m, err := New(testConfig, be, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := testConfig
	zt := tensors.FromFlatDataAndDimensions(make([]float32, 2*c.ImageSize*2*c.ImageSize*c.Channels), 2, c.ImageSize, 2*c.ImageSize, c.Channels)
	tt := tensors.FromFlatDataAndDimensions([]float32{0.3, 0.7}, 2)
	ids := tensors.FromFlatDataAndDimensions(make([]int32, 2*c.TextLen), 2, c.TextLen)
	md := m.mdl()
	out, err := context.ExecOnce(be, m.ctx, func(ctx *context.Context, zt, t, ids *Node) *Node { return md.Forward(ctx, zt, t, ids) }, zt, tt, ids)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Shape().Dimensions; !slices.Equal(got, []int{2, c.ImageSize, 2 * c.ImageSize, c.Channels}) {
		t.Fatalf("output shape %v", got)
	}
}

// TestMaskedLossIgnoresReference: in masked mode the loss's gradient with respect to the
// prediction is zero at every reference position; in full mode it is not.
func TestMaskedLossIgnoresReference(t *testing.T) {
	be := backend(t)
	const b, h, w, c = 2, 4, 4, 3
	r := rand.New(rand.NewPCG(1, 2))
	v := make([]float32, b*h*2*w*c)
	target := make([]float32, len(v))
	for i := range v {
		v[i], target[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	for _, mode := range []LossMode{Masked, Full} {
		grad, err := ExecOnce(be, func(v, target *Node) *Node {
			return Gradient(cfmLoss(v, target, lossMask(v, w, mode)), v)[0]
		}, tensors.FromFlatDataAndDimensions(v, b, h, 2*w, c), tensors.FromFlatDataAndDimensions(target, b, h, 2*w, c))
		if err != nil {
			t.Fatal(err)
		}
		g := tensors.MustCopyFlatData[float32](grad)
		refNonZero, targetNonZero := 0, 0
		for i, x := range g {
			col := (i / c) % (2 * w)
			if x != 0 && col >= w {
				refNonZero++
			}
			if x != 0 && col < w {
				targetNonZero++
			}
		}
		if targetNonZero == 0 {
			t.Errorf("%s: no gradient on the target half", mode)
		}
		if mode == Masked && refNonZero != 0 {
			t.Errorf("masked: %d nonzero gradients on the reference half", refNonZero)
		}
		if mode == Full && refNonZero == 0 {
			t.Errorf("full: the reference half gets no gradient")
		}
	}
}

// TestLoRAFreezesBase: after EnableLoRA, training steps change only LoRA variables, and
// only the chosen layer sets have adapters.
func TestLoRAFreezesBase(t *testing.T) {
	be := backend(t)
	m, err := New(testConfig, be, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	batch := randBatch(r, testConfig, 2)
	for range 5 { // base pretraining: adaLN-Zero needs a few steps before gradients reach the blocks
		if _, err := m.TrainStep(batch, Masked, 1e-3, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.EnableLoRA(LoRA{Rank: 2, Alpha: 2, Layers: []LayerSet{Attn, FFN}}); err != nil {
		t.Fatal(err)
	}
	base := m.snapshot(t) // before any LoRA step
	if _, err := m.TrainStep(batch, Masked, 1e-2, r); err != nil {
		t.Fatal(err)
	}
	before := m.snapshot(t) // LoRA variables exist from the first step on
	if _, err := m.TrainStep(batch, Masked, 1e-2, r); err != nil {
		t.Fatal(err)
	}
	after := m.snapshot(t)
	for name, vals := range base {
		if !contains(name, "Adam") && !contains(name, "/optimizers/") && !contains(name, "global_step") && !slices.Equal(vals, after[name]) {
			t.Errorf("base variable %s changed under LoRA", name)
		}
	}
	loraChanged := 0
	for name, vals := range after {
		old, existed := before[name]
		switch {
		case isLoRA(name):
			if name[len(name)-1] == 'b' && existed && !slices.Equal(old, vals) {
				loraChanged++
			}
			if !contains(name, "/attn/") && !contains(name, "/ffn/") {
				t.Errorf("adapter outside attn and ffn: %s", name)
			}
		}
	}
	if loraChanged == 0 {
		t.Error("no LoRA B matrix changed")
	}
	for _, set := range []string{"/attn/", "/ffn/"} {
		found := false
		for name := range after {
			found = found || (isLoRA(name) && contains(name, set) && !contains(name, "Adam"))
		}
		if !found {
			t.Errorf("no adapter in %s", set)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// snapshot copies every float32 variable's value.
func (m *Model) snapshot(t *testing.T) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for v := range m.ctx.IterVariables() {
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		if data, err := tensors.CopyFlatData[float32](val); err == nil {
			out[v.ScopeAndName()] = data
		}
	}
	return out
}

// TestRoPESeparatesHalves: a token in the target half and the token at the same place in
// the reference half get different rotary angles.
func TestRoPESeparatesHalves(t *testing.T) {
	be := backend(t)
	gh, gw, hd := 2, 4, 8
	cosT, err := ExecOnce(be, func(g *Graph) *Node { c, _ := rope2D(g, 0, gh, gw, hd); return c })
	if err != nil {
		t.Fatal(err)
	}
	cos := tensors.MustCopyFlatData[float32](cosT)
	for r := range gh {
		for col := range gw / 2 {
			a := cos[(r*gw+col)*hd : (r*gw+col+1)*hd]
			b := cos[(r*gw+col+gw/2)*hd : (r*gw+col+gw/2+1)*hd]
			if slices.Equal(a, b) {
				t.Fatalf("row %d column %d: target and reference tokens share rotary angles", r, col)
			}
		}
	}
}

// TestOverfitOneBatch: the loss on one batch falls when training on it.
func TestOverfitOneBatch(t *testing.T) {
	be := backend(t)
	m, err := New(testConfig, be, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	batch := randBatch(r, testConfig, 4)
	// Fixed noise and times: the same batch each step.
	var first, last float64
	for step := range 60 {
		loss, err := m.TrainStep(batch, Masked, 3e-3, rand.New(rand.NewPCG(7, 8)))
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(loss) {
			t.Fatalf("step %d: NaN loss", step)
		}
		if step == 0 {
			first = loss
		}
		last = loss
	}
	t.Logf("loss %.4f -> %.4f", first, last)
	if !(last < 0.5*first) {
		t.Fatalf("loss did not fall: %.4f -> %.4f", first, last)
	}
}

func TestParseLayerSets(t *testing.T) {
	got, err := ParseLayerSets("attn+ffn+modulation")
	if err != nil || !slices.Equal(got, []LayerSet{Attn, FFN, Modulation}) {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"mlp", "attn+attn", ""} {
		if _, err := ParseLayerSets(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSamplerDeterministic: the same seed gives the same images, another seed others.
func TestSamplerDeterministic(t *testing.T) {
	be := backend(t)
	m, err := New(testConfig, be, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	batch := randBatch(r, testConfig, 2)
	for range 3 {
		if _, err := m.TrainStep(batch, Masked, 1e-3, r); err != nil {
			t.Fatal(err)
		}
	}
	opt := SampleOptions{Steps: 4, Guidance: 2, Seed: 5}
	a, err := m.Sample(batch.References, batch.IDs, 2, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.Sample(batch.References, batch.IDs, 2, opt)
	opt.Seed = 6
	c, _ := m.Sample(batch.References, batch.IDs, 2, opt)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different samples")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds, same samples")
	}
	for _, x := range a {
		if x < -1 || x > 1 || math.IsNaN(float64(x)) {
			t.Fatalf("sample value %v outside [-1, 1]", x)
		}
	}
}

func TestConcatWidthRoundTrip(t *testing.T) {
	target := []float32{1, 2, 3, 4} // n 1, s 2, ch 1
	ref := []float32{5, 6, 7, 8}
	both := concatWidth(target, ref, 1, 2, 1)
	if !slices.Equal(both, []float32{1, 2, 5, 6, 3, 4, 7, 8}) {
		t.Fatalf("concat %v", both)
	}
	if got := targetHalf(both, 1, 2, 1); !slices.Equal(got, target) {
		t.Fatalf("target half %v", got)
	}
}

func TestWorldBatchAndLatents(t *testing.T) {
	tok, err := clip.Default()
	if err != nil {
		t.Fatal(err)
	}
	c := testConfig
	b := c.WorldBatch(tok, 1, 5, 3, 1)
	if b.N != 3 || len(b.Targets) != 3*c.ImageSize*c.ImageSize*3 || len(b.References) != len(b.Targets) || len(b.IDs) != 3*c.TextLen {
		t.Fatalf("batch sizes: %d targets, %d refs, %d ids", len(b.Targets), len(b.References), len(b.IDs))
	}
	again := c.WorldBatch(tok, 1, 5, 3, 1)
	if !slices.Equal(b.Targets, again.Targets) || !slices.Equal(b.IDs, again.IDs) {
		t.Fatal("world batches are not deterministic")
	}
	img := FromLatent(b.Targets[:c.ImageSize*c.ImageSize*3], c.ImageSize)
	if back := ToLatent(img); !slices.Equal(back, b.Targets[:len(back)]) {
		t.Fatal("latent round trip changed values")
	}
	base := c.WorldBatch(tok, 1, 5, 1, 0)
	for _, v := range base.References {
		if v != 0 {
			t.Fatal("base batches must have a zero reference")
		}
	}
}

// TestCheckpointRoundTrip: base and LoRA save to separate files and load back to a model
// that samples exactly as the original.
func TestCheckpointRoundTrip(t *testing.T) {
	be := backend(t)
	m, err := New(testConfig, be, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 3))
	batch := randBatch(r, testConfig, 2)
	for range 3 {
		m.TrainStep(batch, Masked, 1e-3, r)
	}
	if err := m.EnableLoRA(LoRA{Rank: 2, Alpha: 4, Layers: []LayerSet{Attn}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := m.TrainStep(batch, Masked, 1e-2, r); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if err := m.Save(dir, map[string]any{"steps": 5}); err != nil {
		t.Fatal(err)
	}
	loaded, info, err := Load(dir, be)
	if err != nil {
		t.Fatal(err)
	}
	if info.LoRA == nil || info.LoRA.Rank != 2 {
		t.Fatalf("info %+v", info)
	}
	opt := SampleOptions{Steps: 3, Guidance: 1, Seed: 4}
	a, err := m.Sample(batch.References, batch.IDs, 2, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loaded.Sample(batch.References, batch.IDs, 2, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Fatal("the loaded checkpoint samples differently")
	}
	// A damaged weights file is refused.
	os.WriteFile(filepath.Join(dir, loraFile), []byte("x"), 0o644)
	if _, _, err := Load(dir, be); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("damaged checkpoint: %v", err)
	}
}

// TestCUDAWithoutPlugin: asking for CUDA without a PJRT CUDA plugin fails with a message
// naming what is missing (this machine class has no GPU).
func TestCUDAWithoutPlugin(t *testing.T) {
	if os.Getenv(PluginEnv) != "" {
		t.Skipf("%s is set: this machine may have a CUDA plugin", PluginEnv)
	}
	_, err := BackendFor(CUDA)
	if err == nil {
		t.Skip("a CUDA backend started: a GPU and plugin are present")
	}
	for _, want := range []string{"PJRT", PluginEnv, "cuda"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := BackendFor("tpu"); err == nil {
		t.Error("an unknown device was accepted")
	}
}

// TestNoDeadlock: the pure-Go backend's default parallel op execution deadlocked once in a
// train step (workers waiting on a full pool inside DotGeneral); NewBackend runs ops
// sequentially. Training steps must finish: a hang fails here with a clear message rather
// than at the test binary's timeout.
func TestNoDeadlock(t *testing.T) {
	if !strings.Contains(CPUBackendConfig, "ops_sequential") {
		t.Fatalf("CPU backend config %q no longer runs ops sequentially", CPUBackendConfig)
	}
	be := backend(t)
	m, err := New(testConfig, be, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 4))
	batch := randBatch(r, testConfig, 4)
	done := make(chan error, 1)
	go func() {
		for range 30 {
			if _, err := m.TrainStep(batch, Masked, 1e-3, r); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("30 train steps did not finish in 2 minutes: the backend deadlocked")
	}
}

// TestContinueBase: a base stage given a base checkpoint trains it further (its config, not
// Config, decides the model) with the cosine schedule; a fine-tuned checkpoint is refused,
// and so is a reference rate outside [0, 1].
func TestContinueBase(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "base")
	o := TrainOptions{Stage: Base, Config: testConfig, Loss: Masked, Steps: 2, Batch: 2, LearningRate: 1e-3, Seed: 1, Out: first}
	if err := Train(o); err != nil {
		t.Fatal(err)
	}
	more := o
	more.BaseDir, more.Config, more.Out, more.Cosine, more.ReferenceRate = first, Tiny, filepath.Join(dir, "more"), true, 0.5
	if err := Train(more); err != nil {
		t.Fatal(err)
	}
	_, info, err := Load(more.Out, backend(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Config != testConfig || info.Training["cosine"] != true || info.Training["reference_rate"] != 0.5 {
		t.Fatalf("continued base: config %+v, record %v", info.Config, info.Training)
	}
	ft := o
	ft.Stage, ft.BaseDir, ft.Out, ft.LoRA = Finetune, first, filepath.Join(dir, "ft"), LoRA{Rank: 2, Alpha: 2, Layers: []LayerSet{Attn}}
	if err := Train(ft); err != nil {
		t.Fatal(err)
	}
	bad := o
	bad.BaseDir, bad.Out = ft.Out, filepath.Join(dir, "bad")
	if err := Train(bad); err == nil || !strings.Contains(err.Error(), "LoRA") {
		t.Fatalf("continuing a fine-tuned checkpoint: %v", err)
	}
	bad.BaseDir, bad.ReferenceRate = "", 1.5
	if err := Train(bad); err == nil || !strings.Contains(err.Error(), "reference rate") {
		t.Fatalf("reference rate 1.5: %v", err)
	}
}
