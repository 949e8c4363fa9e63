package charis

import (
	"cmp"
	"slices"
)

// The identity judge's verdicts (docs/judge.md): what became of one attribute of the
// reference's subject in a generated image.
const (
	VerdictKept       = "kept"             // the same as in the reference
	VerdictRequested  = "changed_as_asked" // changed, and the prompt asks for that change
	VerdictDrifted    = "changed_unasked"  // changed without the prompt asking: identity drift
	VerdictNotVisible = "not_visible"      // cannot be judged in the generated image
)

// Verdicts lists the verdicts in a fixed order.
var Verdicts = []string{VerdictKept, VerdictRequested, VerdictDrifted, VerdictNotVisible}

// Judge check levels, top down: the subject's type and style, then the attributes the
// knowledge base lists for the type, then finer features.
const (
	LevelType      = "type"
	LevelAttribute = "attribute"
	LevelFeature   = "feature"
)

// AxisJudgeIC is the judge's identity consistency: kept / (kept + changed without being
// asked) over a sample's checks. It sits beside the axes; CHARIS does not aggregate it.
const AxisJudgeIC = "judge_ic"

// JudgeCheck is one attribute's verdict, with the evidence: what it was in the reference,
// what it became.
type JudgeCheck struct {
	Level     string `json:"level"`
	Attribute string `json:"attribute"`
	Verdict   string `json:"verdict"`
	Was       string `json:"was,omitempty"`
	Became    string `json:"became,omitempty"`
	Evidence  string `json:"evidence,omitempty"`
}

// Judgment is the judge's answer for one sample.
type Judgment struct {
	Backend  string       `json:"backend"`         // vlm or probe
	Model    string       `json:"model,omitempty"` // the VLM or probe model
	Protocol string       `json:"protocol"`        // judge protocol version
	Type     string       `json:"type"`            // the knowledge-base type judged against
	Checks   []JudgeCheck `json:"checks"`
	IC       *float64     `json:"ic,omitempty"` // JudgeIC; nil when no check counts
}

// DriftCount is how many of a variant's samples an attribute drifted in.
type DriftCount struct {
	Attribute string `json:"attribute"`
	Count     int    `json:"count"`
}

// CountDrift adds a judgment's drifted attributes to counts.
func CountDrift(counts map[string]int, j *Judgment) {
	for _, c := range j.Checks {
		if c.Verdict == VerdictDrifted {
			counts[c.Attribute]++
		}
	}
}

// SortedDrift lists counts most often first, ties by name.
func SortedDrift(counts map[string]int) []DriftCount {
	var out []DriftCount
	for a, n := range counts {
		out = append(out, DriftCount{a, n})
	}
	slices.SortFunc(out, func(a, b DriftCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Attribute, b.Attribute))
	})
	return out
}

// JudgeIC is kept / (kept + changed without being asked); requested changes and what is
// not visible are left out. ok is false when no check counts.
func JudgeIC(checks []JudgeCheck) (ic float64, ok bool) {
	var kept, drifted int
	for _, c := range checks {
		switch c.Verdict {
		case VerdictKept:
			kept++
		case VerdictDrifted:
			drifted++
		}
	}
	if kept+drifted == 0 {
		return 0, false
	}
	return float64(kept) / float64(kept+drifted), true
}
