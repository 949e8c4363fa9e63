package metrics

import (
	"math"

	"github.com/charisbench/charisbench/charis"
)

// CHARIS aggregates axis scores. Version 1 (charis-v1.md): Σ_a w_a·axis_a with weights
// normalised to sum 1 (arithmetic, the default), or Π_a axis_a^w_a (geometric). Version 2
// (charis-v2.md) does the same over the axes that apply to the sample, their weights
// normalised to sum 1 among themselves; a sample where no weighted axis applies scores 0.
func CHARIS(axes map[string]charis.AxisValue, cfg *charis.MetricConfig) float64 {
	if cfg.Version == charis.MetricV1 {
		return charisV1(axes, cfg)
	}
	if cfg.Aggregate == "geometric" {
		return geometric(axes, cfg, 0)
	}
	w, total := applicableWeights(axes, cfg)
	if total == 0 {
		return 0
	}
	s := 0.0
	for _, a := range charis.Axes {
		s += w[a] / total * axes[a].Score
	}
	return s
}

// CHARISGeo is the geometric aggregate reported beside CHARIS (charis_geo): Π_a
// max(axis_a, floor)^(w_a/W) over the axes that apply, floor = geo_floor (0.01), so one
// failed axis pulls the sample down hard without zeroing it.
func CHARISGeo(axes map[string]charis.AxisValue, cfg *charis.MetricConfig) float64 {
	return geometric(axes, cfg, cfg.GeoFloor)
}

func geometric(axes map[string]charis.AxisValue, cfg *charis.MetricConfig, floor float64) float64 {
	w, total := applicableWeights(axes, cfg)
	if total == 0 {
		return 0
	}
	logSum := 0.0
	for _, a := range charis.Axes {
		if w[a] == 0 {
			continue
		}
		s := max(axes[a].Score, floor)
		if s <= 0 {
			return 0
		}
		logSum += w[a] / total * math.Log(s)
	}
	return math.Exp(logSum)
}

// applicableWeights returns the weight of each axis present and applicable, and their sum.
func applicableWeights(axes map[string]charis.AxisValue, cfg *charis.MetricConfig) (map[string]float64, float64) {
	w := make(map[string]float64, len(charis.Axes))
	total := 0.0
	for _, a := range charis.Axes {
		if v, ok := axes[a]; ok && v.Applies() {
			w[a] = cfg.Weights[a]
			total += w[a]
		}
	}
	return w, total
}

// charisV1 is version 1's aggregate, kept as it was so version 1 reproduces its numbers.
func charisV1(axes map[string]charis.AxisValue, cfg *charis.MetricConfig) float64 {
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
