package metrics

import (
	"math"

	"github.com/charisbench/charisbench/charis"
)

// CHARIS aggregates axis scores: Σ_a w_a·axis_a with weights normalised to sum 1
// (arithmetic, the spec's default), or Π_a axis_a^w_a (geometric).
func CHARIS(axes map[string]charis.AxisValue, cfg *charis.MetricConfig) float64 {
	if cfg.Aggregate == "geometric" {
		logSum := 0.0
		for _, a := range charis.Axes {
			w := cfg.Weight(a)
			if w == 0 {
				continue
			}
			if axes[a].Score <= 0 {
				return 0
			}
			logSum += w * math.Log(axes[a].Score)
		}
		return math.Exp(logSum)
	}
	s := 0.0
	for _, a := range charis.Axes {
		s += cfg.Weight(a) * axes[a].Score
	}
	return s
}
