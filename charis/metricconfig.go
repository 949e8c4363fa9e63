package charis

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	"github.com/charisbench/charisbench/charis/readfile"
)

// Axis names, in CHARIS order; they key per-sample results and summaries.
const (
	AxisIC = "ic" // identity consistency
	AxisPA = "pa" // prompt adherence
	AxisCF = "cf" // region-wise colour fidelity
	AxisVQ = "vq" // visual quality
	AxisTD = "td" // transformation diversity
)

// Axes lists the axis names in order.
var Axes = []string{AxisIC, AxisPA, AxisCF, AxisVQ, AxisTD}

// MetricConfig is CHARIS's tunable definition (docs/metric.md). DefaultMetricConfig holds
// the defaults of ../shared/spec/charis-v2.md (version 2, the default);
// MetricConfigVersion(1) those of ../shared/spec/charis-v1.md. A YAML file overrides any
// subset of its version's defaults.
type MetricConfig struct {
	Version   int                `yaml:"version" json:"version"`
	Weights   map[string]float64 `yaml:"weights" json:"weights"`     // per axis; normalised by their sum
	Aggregate string             `yaml:"aggregate" json:"aggregate"` // arithmetic | geometric
	GeoFloor  float64            `yaml:"geo_floor" json:"geo_floor"` // charis_geo: axes floored here before the geometric mean
	IC        ICConfig           `yaml:"ic" json:"ic"`
	PA        PAConfig           `yaml:"pa" json:"pa"`
	CF        CFConfig           `yaml:"cf" json:"cf"`
	VQ        VQConfig           `yaml:"vq" json:"vq"`
	TD        TDConfig           `yaml:"td" json:"td"`
	Bootstrap BootstrapConfig    `yaml:"bootstrap" json:"bootstrap"`
	// MaskFallback is what stands in for a subject mask that is neither given nor made by
	// a segmenter: "" or "whole_image" (every pixel is subject, the default) or "patch_pca"
	// (the identity encoder's own foreground: metrics.PatchForeground). Absent from the
	// canonical JSON when it is the default, so older configs keep their hash.
	MaskFallback string `yaml:"mask_fallback,omitempty" json:"mask_fallback,omitempty"`
}

// Mask fallbacks (MetricConfig.MaskFallback); each is also the mask_source of the samples
// whose masks it made.
const (
	MaskWholeImage = "whole_image"
	MaskPatchPCA   = "patch_pca"
)

// ICConfig: identity consistency.
type ICConfig struct {
	MaskCoverage float64 `yaml:"mask_coverage" json:"mask_coverage"` // a patch is subject when this much of it is masked
	// LumaBelow: IC compares the luma of both images where the generated subject's colours
	// spread less than this (metrics.ColourSpread, CIELAB a*b* units): a generation without
	// colour (a pencil sketch, a black-and-white photo) leaves the colours to CF (version 2,
	// docs/metric.md change 7). 0: never, as in version 1; a config without it keeps its
	// canonical JSON and hash.
	LumaBelow float64 `yaml:"luma_below,omitempty" json:"luma_below,omitempty"`
}

// PAConfig: prompt adherence.
type PAConfig struct {
	Identifiers []string `yaml:"identifiers" json:"identifiers"` // words removed from prompts ("sks")
}

// CFConfig: region-wise colour fidelity.
type CFConfig struct {
	K       int        `yaml:"k" json:"k"`       // parts clustered from the reference's subject patches
	Tau     float64    `yaml:"tau" json:"tau"`   // CF_k = exp(−d_k / tau)
	KL      float64    `yaml:"kl" json:"kl"`     // CIEDE2000 lightness weight
	Seed    uint64     `yaml:"seed" json:"seed"` // k-means++ seed
	License *CFLicense `yaml:"license,omitempty" json:"license,omitempty"`
}

// CFLicense lists the prompt words that license a change of the subject's colours, so CF
// does not apply (version 2; docs/metric.md gives the rule). Words match whole words,
// case-insensitively; an entry of several words matches them in sequence.
type CFLicense struct {
	Style    []string `yaml:"style" json:"style"`       // anywhere in the prompt: "sketch", "watercolour"
	Lighting []string `yaml:"lighting" json:"lighting"` // anywhere in the prompt: "dim", "sunset"
	Attire   []string `yaml:"attire" json:"attire"`     // anywhere: "outfit" (clothes cover the subject's colours)
	Colours  []string `yaml:"colours" json:"colours"`   // only in the subject's own phrase: "a red backpack"
	// Boundaries end the subject's own phrase: a colour word after one of them ("on top of
	// pink fabric") describes the scene, not the subject.
	Boundaries []string `yaml:"boundaries" json:"boundaries"`
}

// VQConfig: visual quality.
type VQConfig struct {
	Antonyms        [][2]string `yaml:"antonyms" json:"antonyms"`                   // (positive, negative) prompt pairs
	Scale           float64     `yaml:"scale" json:"scale"`                         // softmax logit scale
	MinLumaStd      float64     `yaml:"min_luma_std" json:"min_luma_std"`           // below: a (near) constant image, VQ = 0
	MaxClippedShare float64     `yaml:"max_clipped_share" json:"max_clipped_share"` // above: over-clipped, VQ = 0
}

// TDConfig: transformation diversity.
type TDConfig struct {
	SSIMSize int `yaml:"ssim_size" json:"ssim_size"` // gray images are resized to this square for SSIM
	// Calibration is calibrate(spread) of version 1; version 2 takes the clip_image
	// encoder's fitted calibration from the model manifest instead.
	Calibration Calibration `yaml:"spread_calibration" json:"spread"`
}

// BootstrapConfig: confidence intervals of variant means, resampling subjects.
type BootstrapConfig struct {
	Draws      int     `yaml:"draws" json:"draws"`
	Seed       uint64  `yaml:"seed" json:"seed"`
	Confidence float64 `yaml:"confidence" json:"confidence"`
}

// Defaults of the spec, named.
const (
	defaultWeight       = 0.2
	defaultMaskCoverage = 0.5
	// v2's IC compares luma views below this colour spread: one just-noticeable difference
	// in CIELAB (ΔE*ab ≈ 2.3), so only a generation without visible colour differences
	// qualifies, never a coloured photo of low chroma (docs/metric.md, v2 change 7).
	defaultLumaBelow  = 2.3
	defaultK          = 4
	defaultTau        = 10
	defaultKL         = 2
	defaultVQScale    = 100
	defaultMinLumaStd = 2.0 / 255
	defaultMaxClipped = 0.5
	defaultSSIMSize   = 128
	// v2's novelty compares structure at 32×32: pose, place and scale, not pixel noise
	// (docs/metric.md, v2 change 6).
	defaultSSIMSizeV2    = 32
	defaultBootstrapDraw = 2000
	minBootstrapDraws    = 1000
	defaultGeoFloor      = 0.01
)

// Metric versions: 1 is ../shared/spec/charis-v1.md, 2 (the default) charis-v2.md.
const (
	MetricV1      = 1
	MetricV2      = 2
	LatestVersion = MetricV2
)

// DefaultMetricConfig returns the default definition: CHARIS v2.
func DefaultMetricConfig() MetricConfig {
	c, _ := MetricConfigVersion(LatestVersion)
	return c
}

// DefaultCFLicense is version 2's word lists (docs/metric.md).
func DefaultCFLicense() *CFLicense {
	return &CFLicense{
		Style: []string{"sketch", "drawing", "outline", "painting", "watercolour", "watercolor", "cartoon",
			"pencil", "charcoal", "ink", "pixel art", "oil painting", "line art", "black and white", "monochrome",
			"grayscale", "greyscale", "sepia", "comic", "anime", "pop art", "impressionist", "cubist", "stained glass"},
		Lighting: []string{"dim", "bright light", "night", "dark", "warm light", "cool light", "sunset", "sunrise",
			"dusk", "dawn", "golden hour", "neon", "backlit", "candlelight", "moonlight", "spotlight", "shadow", "low light"},
		Attire: []string{"outfit", "costume", "uniform", "dressed as", "dressed in"},
		Colours: []string{"red", "orange", "yellow", "green", "teal", "blue", "purple", "violet", "pink", "brown",
			"black", "white", "gray", "grey", "gold", "golden", "silver", "navy", "cyan", "magenta", "beige",
			"turquoise", "maroon", "rainbow", "colorful", "colourful"},
		Boundaries: []string{"on", "in", "at", "with", "near", "behind", "under", "beneath", "beside", "next",
			"against", "inside", "floating", "wearing", "holding", "surrounded", "among", "over", "above", "below",
			"by", "from", "into", "through", "across", "around", "before", "between", "along", "atop"},
	}
}

// MetricConfigVersion returns the defaults of a metric version (1 or 2).
func MetricConfigVersion(version int) (MetricConfig, error) {
	if version != MetricV1 && version != MetricV2 {
		return MetricConfig{}, fmt.Errorf("unsupported metric config version %d (want 1 or 2)", version)
	}
	c := MetricConfig{
		Version:   version,
		Weights:   map[string]float64{AxisIC: defaultWeight, AxisPA: defaultWeight, AxisCF: defaultWeight, AxisVQ: defaultWeight, AxisTD: defaultWeight},
		Aggregate: "arithmetic",
		GeoFloor:  defaultGeoFloor,
		IC:        ICConfig{MaskCoverage: defaultMaskCoverage},
		PA:        PAConfig{Identifiers: []string{"sks"}},
		CF:        CFConfig{K: defaultK, Tau: defaultTau, KL: defaultKL},
		VQ: VQConfig{
			Antonyms:        [][2]string{{"Good photo.", "Bad photo."}, {"Sharp photo.", "Blurry photo."}, {"Clean photo.", "Noisy photo."}},
			Scale:           defaultVQScale,
			MinLumaStd:      defaultMinLumaStd,
			MaxClippedShare: defaultMaxClipped,
		},
		TD:        TDConfig{SSIMSize: defaultSSIMSize, Calibration: Calibration{Lo: 0, Hi: 1}},
		Bootstrap: BootstrapConfig{Draws: defaultBootstrapDraw, Seed: 1, Confidence: 0.95},
	}
	if version >= MetricV2 {
		c.CF.License = DefaultCFLicense()
		c.IC.LumaBelow = defaultLumaBelow
		c.TD.SSIMSize = defaultSSIMSizeV2
	}
	return c, nil
}

// LoadMetricConfig reads a YAML metric config over the defaults of the version it names
// (the latest when it names none); "" gives the defaults.
func LoadMetricConfig(path string) (MetricConfig, error) {
	c := DefaultMetricConfig()
	if path == "" {
		return c, nil
	}
	data, err := readfile.Read("metric config", path, readfile.MaxConfigBytes)
	if err != nil {
		return c, err
	}
	doc, err := ParseYAML(path, data, &c) // over the latest defaults: reads the version and the lines
	if err != nil {
		return c, err
	}
	if c.Version != LatestVersion {
		base, verr := MetricConfigVersion(c.Version)
		if verr != nil {
			return c, doc.Errorf("version", "%v", verr)
		}
		c = base
		if doc, err = ParseYAML(path, data, &c); err != nil {
			return c, err
		}
	}
	c.normalize()
	return c, c.validate(doc)
}

// normalize makes a word list given as null ("attire:") the empty list it means, so that
// both spellings are one config with one hash.
func (c *MetricConfig) normalize() {
	lists := []*[]string{&c.PA.Identifiers}
	if l := c.CF.License; l != nil {
		lists = append(lists, &l.Style, &l.Lighting, &l.Attire, &l.Colours, &l.Boundaries)
	}
	for _, p := range lists {
		if *p == nil {
			*p = []string{}
		}
	}
}

func (c *MetricConfig) validate(d *YAMLDoc) error {
	if c.Version != MetricV1 && c.Version != MetricV2 {
		return d.Errorf("version", "unsupported metric config version %d (want 1 or 2)", c.Version)
	}
	if c.Version == MetricV1 && c.CF.License != nil {
		return d.Errorf("cf.license", "version 1 has no colour-change licensing (use version: 2)")
	}
	if c.Version == MetricV1 && c.IC.LumaBelow != 0 {
		return d.Errorf("ic.luma_below", "version 1 compares colours whatever the image (use version: 2)")
	}
	if c.Version >= MetricV2 && c.CF.License == nil {
		return d.Errorf("cf.license", "version 2 needs the licensing word lists")
	}
	sum := 0.0
	for name, w := range c.Weights {
		if !isAxis(name) {
			return d.Errorf("weights."+name, "unknown axis %q (want ic, pa, cf, vq, td)", name)
		}
		if !(w >= 0) || math.IsInf(w, 0) {
			return d.Errorf("weights."+name, "must be a non-negative number, got %v", w)
		}
		sum += w
	}
	for _, a := range Axes {
		if _, ok := c.Weights[a]; !ok {
			return d.Errorf("weights", "missing weight for %s (give all five)", a)
		}
	}
	switch {
	case sum <= 0:
		return d.Errorf("weights", "at least one weight must be positive")
	case c.Aggregate != "arithmetic" && c.Aggregate != "geometric":
		return d.Errorf("aggregate", "unknown %q (want arithmetic or geometric)", c.Aggregate)
	case !(c.IC.MaskCoverage > 0 && c.IC.MaskCoverage <= 1):
		return d.Errorf("ic.mask_coverage", "must be in (0, 1], got %v", c.IC.MaskCoverage)
	case !(c.IC.LumaBelow >= 0 && c.IC.LumaBelow <= maxColourSpread):
		return d.Errorf("ic.luma_below", "must be in [0, %d] (0: never), got %v", maxColourSpread, c.IC.LumaBelow)
	case c.CF.K < 1 || c.CF.K > maxParts:
		return d.Errorf("cf.k", "must be in [1, %d], got %d", maxParts, c.CF.K)
	case !positive(c.CF.Tau):
		return d.Errorf("cf.tau", "must be a positive number, got %v", c.CF.Tau)
	case !positive(c.CF.KL):
		return d.Errorf("cf.kl", "must be a positive number, got %v", c.CF.KL)
	case len(c.VQ.Antonyms) == 0:
		return d.Errorf("vq.antonyms", "give at least one (positive, negative) pair")
	case !positive(c.VQ.Scale):
		return d.Errorf("vq.scale", "must be a positive number, got %v", c.VQ.Scale)
	case !(c.VQ.MinLumaStd >= 0 && c.VQ.MinLumaStd < 1):
		return d.Errorf("vq.min_luma_std", "must be in [0, 1), got %v", c.VQ.MinLumaStd)
	case !(c.VQ.MaxClippedShare > 0 && c.VQ.MaxClippedShare <= 1):
		return d.Errorf("vq.max_clipped_share", "must be in (0, 1], got %v", c.VQ.MaxClippedShare)
	case math.IsInf(c.TD.Calibration.Lo, 0) || math.IsInf(c.TD.Calibration.Hi, 0):
		return d.Errorf("td.spread_calibration", "lo and hi must be finite")
	case c.TD.SSIMSize < 11 || c.TD.SSIMSize > maxSSIMSize:
		return d.Errorf("td.ssim_size", "must be in [11, %d] (at least the SSIM window), got %d", maxSSIMSize, c.TD.SSIMSize)
	case !(c.TD.Calibration.Hi > c.TD.Calibration.Lo):
		return d.Errorf("td.spread_calibration", "hi must be greater than lo")
	case !(c.GeoFloor > 0 && c.GeoFloor < 1):
		return d.Errorf("geo_floor", "must be in (0, 1), got %v", c.GeoFloor)
	case c.Bootstrap.Draws < minBootstrapDraws || c.Bootstrap.Draws > maxBootstrapDraws:
		return d.Errorf("bootstrap.draws", "must be in [%d, %d], got %d", minBootstrapDraws, maxBootstrapDraws, c.Bootstrap.Draws)
	case !(c.Bootstrap.Confidence > 0 && c.Bootstrap.Confidence < 1):
		return d.Errorf("bootstrap.confidence", "must be in (0, 1), got %v", c.Bootstrap.Confidence)
	case c.MaskFallback != "" && c.MaskFallback != MaskWholeImage && c.MaskFallback != MaskPatchPCA:
		return d.Errorf("mask_fallback", "unknown %q (want %s or %s)", c.MaskFallback, MaskWholeImage, MaskPatchPCA)
	}
	if c.MaskFallback == MaskWholeImage {
		c.MaskFallback = "" // the default: one hash for one behaviour
	}
	return nil
}

// Upper bounds that keep a hostile config from asking for hours or gigabytes: more parts
// than an encoder has patches, SSIM on images past any encoder's input, a bootstrap past
// where its interval stops moving.
const (
	maxParts          = 256
	maxSSIMSize       = 1024
	maxBootstrapDraws = 1_000_000
	maxColourSpread   = 300 // past any two sRGB colours' distance in the a*b* plane
)

// positive is a finite number above zero.
func positive(x float64) bool { return x > 0 && !math.IsInf(x, 1) }

func isAxis(s string) bool {
	for _, a := range Axes {
		if a == s {
			return true
		}
	}
	return false
}

// Weight is an axis's weight normalised so the weights sum to 1.
func (c *MetricConfig) Weight(axis string) float64 {
	sum := 0.0
	for _, w := range c.Weights {
		sum += w
	}
	return c.Weights[axis] / sum
}

// SHA256 identifies the resolved configuration (its canonical JSON), for provenance and
// caches.
func (c *MetricConfig) SHA256() string {
	b, _ := json.Marshal(c) // maps marshal with sorted keys: canonical
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
