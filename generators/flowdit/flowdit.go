package flowdit

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's graph DSL reads best unqualified
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// LossMode selects the CFM mask μ.
type LossMode string

// Loss modes of the paper's ablation.
const (
	Masked LossMode = "masked" // μ = 1 on the target half only
	Full   LossMode = "full"   // μ = 1 everywhere
)

// Model is a flowdit model: its configuration, LoRA adapters (when fine-tuning) and
// variables, on one backend.
type Model struct {
	Config  Config
	LoRA    *LoRA
	backend backends.Backend
	ctx     *context.Context
	trainer *train.Trainer
	mode    LossMode
}

// New creates a model with fresh variables (initialised on first use).
func New(cfg Config, backend backends.Backend, seed int64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	install()
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(seed); err != nil {
		return nil, err
	}
	return &Model{Config: cfg, backend: backend, ctx: ctx}, nil
}

// EnableLoRA adds adapters on the given layer sets and freezes every base weight: from now
// on only LoRA parameters train.
func (m *Model) EnableLoRA(l LoRA) error {
	if l.Rank <= 0 || !(l.Alpha > 0) || len(l.Layers) == 0 {
		return fmt.Errorf("flowdit: LoRA needs a positive rank and alpha and at least one layer set, got %+v", l)
	}
	m.LoRA = &l
	m.trainer = nil
	for v := range m.ctx.IterVariables() {
		v.SetTrainable(false)
	}
	return nil
}

// mdl is the graph builder for the current configuration.
func (m *Model) mdl() *model { return &model{cfg: m.Config, lora: m.LoRA} }

// Batch is one training batch: images in [-1, 1], [B, S, S, C] row-major float32, and the
// prompts' hashed token ids [B, TextLen].
type Batch struct {
	Targets, References []float32
	IDs                 []int32
	N                   int
}

// lossGraph is the CFM loss of a batch given its noise z1 [B, H, 2W, C] and times t [B].
func (md *model) lossGraph(ctx *context.Context, target, ref, z1, t, ids *Node, mode LossMode) *Node {
	c := md.cfg
	noiseTarget := Slice(z1, AxisRange(), AxisRange(), AxisRange(0, c.ImageSize)) // [B, H, W, C]
	tb := Reshape(t, t.Shape().Dimensions[0], 1, 1, 1)
	ztTarget := Add(Mul(Sub(OnesLike(tb), tb), target), Mul(tb, noiseTarget))
	zt := Concatenate([]*Node{ztTarget, ref}, 2) // [B, H, 2W, C]: target left, clean reference right
	v := md.Forward(ctx, zt, t, ids)
	z0 := Concatenate([]*Node{target, ref}, 2)
	return cfmLoss(v, Sub(z0, z1), lossMask(v, c.ImageSize, mode))
}

// lossMask is μ over [B, H, 2W, C]: ones on the target columns (j < W), and on the
// reference columns too in full mode.
func lossMask(v *Node, w int, mode LossMode) *Node {
	d := v.Shape().Dimensions
	ones := Ones(v.Graph(), shapeOf(v, d[0], d[1], w, d[3]))
	refPart := ZerosLike(ones)
	if mode == Full {
		refPart = ones
	}
	return Concatenate([]*Node{ones, refPart}, 2)
}

// cfmLoss is ‖μ ⊙ (target − v)‖² averaged over the positions μ selects.
func cfmLoss(v, target, mask *Node) *Node {
	return Div(ReduceAllSum(Mul(mask, Square(Sub(target, v)))), ReduceAllSum(mask))
}

// TrainStep runs one optimiser step (Adam) on a batch and returns the batch loss. noise and
// times come from rng, so a seeded rng makes training reproducible.
func (m *Model) TrainStep(b Batch, mode LossMode, learningRate float64, rng *rand.Rand) (float64, error) {
	c := m.Config
	if m.trainer == nil || m.mode != mode {
		md := m.mdl()
		modelFn := func(ctx *context.Context, _ any, in []*Node) []*Node {
			return []*Node{md.lossGraph(ctx, in[0], in[1], in[2], in[3], in[4], mode)}
		}
		lossFn := func(_, pred []*Node) *Node { return pred[0] }
		opt := optimizers.Adam().LearningRate(learningRate).Done()
		ctx := m.ctx
		if ctx.NumVariables() > 0 {
			ctx = ctx.Checked(false) // reuse existing weights; LoRA adds new ones
		}
		err := catch(func() {
			m.trainer = train.NewTrainer(m.backend, ctx, modelFn, lossFn, opt, nil, nil)
		})
		if err != nil {
			return 0, err
		}
		m.mode = mode
	}
	n, s, ch := b.N, c.ImageSize, c.Channels
	z1 := make([]float32, n*s*2*s*ch)
	for i := range z1 {
		z1[i] = float32(rng.NormFloat64())
	}
	t := make([]float32, n)
	for i := range t {
		t[i] = float32(rng.Float64())
	}
	inputs := []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(b.Targets, n, s, s, ch),
		tensors.FromFlatDataAndDimensions(b.References, n, s, s, ch),
		tensors.FromFlatDataAndDimensions(z1, n, s, 2*s, ch),
		tensors.FromFlatDataAndDimensions(t, n),
		tensors.FromFlatDataAndDimensions(b.IDs, n, c.TextLen),
	}
	var metrics []*tensors.Tensor
	err := catch(func() {
		var err error
		metrics, err = m.trainer.TrainStep(nil, inputs, nil)
		if err != nil {
			panic(err)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("flowdit train step: %w", err)
	}
	return float64(tensors.ToScalar[float32](metrics[0])), nil
}

// HashIDs maps CLIP input ids into the model's text vocabulary, keeping TextLen of them.
func (c Config) HashIDs(ids []int64) []int32 {
	out := make([]int32, c.TextLen)
	for i := range min(len(ids), c.TextLen) {
		out[i] = int32(ids[i] % int64(c.TextVocab))
	}
	return out
}

// isLoRA tells LoRA variables from base ones by scope.
func isLoRA(scopeAndName string) bool {
	return strings.Contains(scopeAndName, "/"+loraScope+"/")
}
