// Package flowdit is the paper's generator at toy scale, in GoMLX: a diffusion transformer
// whose input is the noisy target latent concatenated along the width with the noise-free
// reference latent (z ∈ R^{H×2W×C}), trained with conditional flow matching whose loss is
// masked to the target half, and adapted with LoRA on named layer sets (attn, ffn,
// modulation). It is the only charisbench package that imports GoMLX.
//
// Conventions (docs/flowdit.md):
//   - latents are images scaled to [-1, 1] (charis-world is small enough to need no VAE);
//   - the target occupies columns j < W, the reference columns j ≥ W;
//   - the path is z_t = (1 − t)·z0 + t·z1 with z1 ~ N(0, I) and t ∈ [0, 1]; the model predicts
//     v = z0 − z1, and the loss is ‖μ ⊙ (z0 − z1 − v_θ(z_t))‖² averaged over the positions μ
//     selects (masked: target columns; full: every column, the reference's z1 included);
//   - sampling runs Euler steps from t = 1 to t = 0: z_{t−Δ} = z_t + Δ·v.
//
// GoMLX builds graphs by panicking on errors; functions of this package that build graphs
// catch those panics and return them as errors at their exported boundary.
package flowdit

import (
	"fmt"
	"math"
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's graph DSL reads best unqualified
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
)

// Config sizes the model.
type Config struct {
	ImageSize int `json:"image_size"` // square image side in pixels (the latent's H and W)
	Channels  int `json:"channels"`   // latent channels (3: RGB)
	Patch     int `json:"patch"`      // patch side: each patch becomes one token
	Dim       int `json:"dim"`        // token width
	Depth     int `json:"depth"`      // transformer blocks
	Heads     int `json:"heads"`      // attention heads (Dim/Heads must be a multiple of 4 for 2-D RoPE)
	TextLen   int `json:"text_len"`   // CLIP token ids per prompt fed to the text encoder
	TextVocab int `json:"text_vocab"` // CLIP ids are hashed into this many embeddings
	TextDepth int `json:"text_depth"` // text encoder blocks
}

// Tiny is the configuration of the tests and the CPU demo; Small suits a GPU.
var (
	Tiny  = Config{ImageSize: 32, Channels: 3, Patch: 4, Dim: 64, Depth: 2, Heads: 4, TextLen: 24, TextVocab: 2048, TextDepth: 1}
	Small = Config{ImageSize: 64, Channels: 3, Patch: 4, Dim: 256, Depth: 8, Heads: 8, TextLen: 32, TextVocab: 8192, TextDepth: 2}
)

// Validate reports the first impossible setting.
func (c Config) Validate() error {
	switch {
	case c.ImageSize <= 0 || c.Patch <= 0 || c.ImageSize%c.Patch != 0:
		return fmt.Errorf("flowdit: image size %d must be a positive multiple of patch %d", c.ImageSize, c.Patch)
	case c.Channels <= 0 || c.Dim <= 0 || c.Depth <= 0 || c.TextLen <= 0 || c.TextVocab <= 0 || c.TextDepth < 0:
		return fmt.Errorf("flowdit: sizes must be positive: %+v", c)
	case c.Heads <= 0 || c.Dim%c.Heads != 0 || (c.Dim/c.Heads)%4 != 0:
		return fmt.Errorf("flowdit: dim %d must split into %d heads of a width divisible by 4 (2-D RoPE)", c.Dim, c.Heads)
	}
	return nil
}

// LayerSet names a group of layers LoRA can adapt.
type LayerSet string

// The layer sets of the paper's ablation.
const (
	Attn       LayerSet = "attn"       // q, k, v and output projections
	FFN        LayerSet = "ffn"        // both feed-forward projections
	Modulation LayerSet = "modulation" // adaLN modulation projections
)

// LoRA configures low-rank adapters: W x + (α/r)·B A x on every layer of the chosen sets,
// A ~ N(0, 1/r), B = 0 at the start.
type LoRA struct {
	Rank   int        `json:"rank"`
	Alpha  float64    `json:"alpha"`
	Layers []LayerSet `json:"layers"`
}

// ParseLayerSets reads "attn+ffn+modulation".
func ParseLayerSets(s string) ([]LayerSet, error) {
	var out []LayerSet
	for _, p := range strings.Split(s, "+") {
		switch ls := LayerSet(strings.TrimSpace(p)); ls {
		case Attn, FFN, Modulation:
			if slices.Contains(out, ls) {
				return nil, fmt.Errorf("layer set %q named twice in %q", ls, s)
			}
			out = append(out, ls)
		default:
			return nil, fmt.Errorf("unknown layer set %q (want attn, ffn, modulation)", p)
		}
	}
	return out, nil
}

// loraScope is the scope every LoRA variable lives under; the base model lives elsewhere.
const loraScope = "lora"

// model builds the graph; lora is nil for the base model.
type model struct {
	cfg  Config
	lora *LoRA
}

// linear is a dense layer, with a LoRA adapter when its set is adapted.
func (m *model) linear(ctx *context.Context, x *Node, out int, set LayerSet, name string) *Node {
	c := ctx.In(name)
	y := dense(c, x, out)
	if m.lora == nil || !slices.Contains(m.lora.Layers, set) {
		return y
	}
	in := x.Shape().Dimensions[x.Rank()-1]
	lc := c.In(loraScope)
	r := m.lora.Rank
	a := lc.WithInitializer(initializers.RandomNormalFn(lc, 1/math.Sqrt(float64(r)))).
		VariableWithShape("a", shapeOf(x, in, r)).ValueGraph(x.Graph()) // [in, r]
	b := lc.WithInitializer(initializers.Zero).VariableWithShape("b", shapeOf(x, r, out)).ValueGraph(x.Graph()) // [r, out]
	low := matmulLast(matmulLast(x, a), b)                                                                      // [..., out]
	return Add(y, MulScalar(low, m.lora.Alpha/float64(r)))
}

// Forward predicts the velocity v for the concatenated latent zt [B, H, 2W, C] at times t [B]
// with prompt ids [B, TextLen] (int32, already hashed into TextVocab). Output [B, H, 2W, C].
func (m *model) Forward(ctx *context.Context, zt, t, ids *Node) *Node {
	c := m.cfg
	b := zt.Shape().Dimensions[0]
	gh, gw := c.ImageSize/c.Patch, 2*c.ImageSize/c.Patch // token grid over the concatenated canvas
	img := patchify(zt, c.Patch)                         // [B, gh·gw, p·p·C]
	img = dense(ctx.In("patch_embed"), img, c.Dim)
	txt, pooled := m.text(ctx.In("text"), ids) // [B, L, D], [B, D]
	cond := Add(timeEmbedding(ctx.In("time"), t, c.Dim), dense(ctx.In("pooled_text"), pooled, c.Dim))
	cond = activations.Swish(cond) // [B, D]
	cos, sin := rope2D(zt.Graph(), c.TextLen, gh, gw, c.Dim/c.Heads)
	x := Concatenate([]*Node{txt, img}, 1) // [B, L + gh·gw, D]
	for i := range c.Depth {
		x = m.block(ctx.Inf("block_%d", i), x, cond, cos, sin)
	}
	img = tokenRange(x, c.TextLen, gh*gw) // [B, gh·gw, D]
	mod := m.linear(ctx.In("final"), cond, 2*c.Dim, Modulation, "modulation")
	ss := splitLast(mod, 2)
	img = modulate(layerNorm(img), ss[0], ss[1])
	ictx := ctx.In("final").WithInitializer(initializers.Zero)
	out := dense(ictx.In("proj"), img, c.Patch*c.Patch*c.Channels) // [B, gh·gw, p·p·C]
	return unpatchify(out, b, gh, gw, c.Patch, c.Channels)
}

// block is a single-stream DiT block over text and image tokens with adaLN-Zero modulation.
func (m *model) block(ctx *context.Context, x, cond, cos, sin *Node) *Node {
	c := m.cfg
	mod := m.linear(ctx.WithInitializer(initializers.Zero), cond, 6*c.Dim, Modulation, "modulation") // [B, 6D]
	s := splitLast(mod, 6)
	h := modulate(layerNorm(x), s[0], s[1])
	x = Add(x, Mul(ExpandAxes(s[2], 1), m.attention(ctx.In("attn"), h, cos, sin)))
	h = modulate(layerNorm(x), s[3], s[4])
	h = m.linear(ctx.In("ffn"), h, 4*c.Dim, FFN, "up")
	h = m.linear(ctx.In("ffn"), activations.Gelu(h), c.Dim, FFN, "down")
	return Add(x, Mul(ExpandAxes(s[5], 1), h))
}

// attention is joint multi-head attention over all tokens; image tokens carry 2-D RoPE.
func (m *model) attention(ctx *context.Context, x, cos, sin *Node) *Node {
	c := m.cfg
	dims := x.Shape().Dimensions
	b, n := dims[0], dims[1]
	hd := c.Dim / c.Heads
	proj := func(name string) *Node {
		return Reshape(m.linear(ctx, x, c.Dim, Attn, name), b, n, c.Heads, hd) // [B, N, H, hd]
	}
	q, k, v := proj("q"), proj("k"), proj("v")
	q, k = applyRoPE(q, cos, sin), applyRoPE(k, cos, sin)
	return m.linear(ctx, mha(q, k, v), c.Dim, Attn, "out") // [B, N, D]
}

// text encodes hashed CLIP ids: embeddings + positions, a few blocks, mean pooled.
func (m *model) text(ctx *context.Context, ids *Node) (tokens, pooled *Node) {
	c := m.cfg
	x := layers.Embedding(ctx.In("embed"), ids, x32, c.TextVocab, c.Dim) // [B, L, D]
	pos := ctx.In("pos").WithInitializer(initializers.RandomNormalFn(ctx, 0.02)).
		VariableWithShape("table", shapeOf(x, c.TextLen, c.Dim)).ValueGraph(ids.Graph())
	x = Add(x, ExpandAxes(pos, 0))
	for i := range c.TextDepth {
		tc := ctx.Inf("block_%d", i)
		hd := c.Dim / c.Heads
		b := x.Shape().Dimensions[0]
		h := layerNorm(x)
		q := Reshape(dense(tc.In("q"), h, c.Dim), b, c.TextLen, c.Heads, hd)
		k := Reshape(dense(tc.In("k"), h, c.Dim), b, c.TextLen, c.Heads, hd)
		v := Reshape(dense(tc.In("v"), h, c.Dim), b, c.TextLen, c.Heads, hd)
		x = Add(x, dense(tc.In("out"), mha(q, k, v), c.Dim))
		x = Add(x, dense(tc.In("ffn_down"), activations.Gelu(dense(tc.In("ffn_up"), layerNorm(x), 2*c.Dim)), c.Dim))
	}
	x = layerNorm(x)
	return x, ReduceMean(x, 1)
}
