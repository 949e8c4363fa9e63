package flowdit

import (
	"fmt"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's graph DSL reads best unqualified
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// SampleOptions configure the Euler sampler.
type SampleOptions struct {
	Steps    int     // Euler steps from t = 1 to t = 0
	Guidance float64 // classifier-free guidance scale; 1 (or 0) disables it
	Seed     uint64  // noise seed: the same seed gives the same images
}

// DefaultSampleOptions are the sampler's defaults.
var DefaultSampleOptions = SampleOptions{Steps: 20, Guidance: 1, Seed: 1}

// Sample generates n targets for references refs [n, S, S, C] (in [-1, 1]) and hashed
// prompt ids [n, TextLen]: Euler steps z_{t−Δ} = z_t + Δ·v from noise at t = 1, the
// reference half held clean. With guidance g ≠ 1, v = v(∅) + g·(v(prompt) − v(∅)), ∅ being
// the empty prompt's ids (all zero). It returns images [n, S, S, C] in [-1, 1] (clamped).
func (m *Model) Sample(refs []float32, ids []int32, n int, opt SampleOptions) ([]float32, error) {
	c := m.Config
	s, ch := c.ImageSize, c.Channels
	if opt.Steps <= 0 {
		return nil, fmt.Errorf("flowdit: sampling needs at least one step, got %d", opt.Steps)
	}
	if len(refs) != n*s*s*ch || len(ids) != n*c.TextLen {
		return nil, fmt.Errorf("flowdit: %d references and %d ids for %d samples of %dx%dx%d", len(refs), len(ids), n, s, s, ch)
	}
	md := m.mdl()
	var exec *context.Exec
	err := catch(func() {
		var err error
		exec, err = context.NewExec(m.backend, m.ctx.Checked(false), func(ctx *context.Context, zt, t, ids *Node) *Node {
			return md.Forward(ctx, zt, t, ids)
		})
		if err != nil {
			panic(err)
		}
	})
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(opt.Seed, 0x666c6f77)) // "flow"
	z := make([]float32, n*s*s*ch)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	guided := opt.Guidance != 0 && opt.Guidance != 1
	empty := make([]int32, len(ids))
	velocity := func(t float32, prompt []int32) ([]float32, error) {
		zt := concatWidth(z, refs, n, s, ch)
		tt := make([]float32, n)
		for i := range tt {
			tt[i] = t
		}
		var out []*tensors.Tensor
		err := catch(func() {
			var err error
			out, err = exec.Exec(tensors.FromFlatDataAndDimensions(zt, n, s, 2*s, ch),
				tensors.FromFlatDataAndDimensions(tt, n), tensors.FromFlatDataAndDimensions(prompt, n, c.TextLen))
			if err != nil {
				panic(err)
			}
		})
		if err != nil {
			return nil, err
		}
		v, err := tensors.CopyFlatData[float32](out[0])
		if err != nil {
			return nil, err
		}
		return targetHalf(v, n, s, ch), nil
	}
	dt := 1 / float32(opt.Steps)
	for step := range opt.Steps {
		t := 1 - float32(step)*dt
		v, err := velocity(t, ids)
		if err != nil {
			return nil, err
		}
		if guided {
			u, err := velocity(t, empty)
			if err != nil {
				return nil, err
			}
			g := float32(opt.Guidance)
			for i := range v {
				v[i] = u[i] + g*(v[i]-u[i])
			}
		}
		for i := range z {
			z[i] += dt * v[i]
		}
	}
	for i := range z {
		z[i] = min(1, max(-1, z[i]))
	}
	return z, nil
}

// concatWidth lays target [n, s, s, ch] and reference side by side: [n, s, 2s, ch].
func concatWidth(target, ref []float32, n, s, ch int) []float32 {
	out := make([]float32, n*s*2*s*ch)
	row := s * ch
	for i := range n * s {
		copy(out[2*i*row:], target[i*row:(i+1)*row])
		copy(out[(2*i+1)*row:], ref[i*row:(i+1)*row])
	}
	return out
}

// targetHalf keeps columns j < s of v [n, s, 2s, ch].
func targetHalf(v []float32, n, s, ch int) []float32 {
	out := make([]float32, n*s*s*ch)
	row := s * ch
	for i := range n * s {
		copy(out[i*row:(i+1)*row], v[2*i*row:])
	}
	return out
}
