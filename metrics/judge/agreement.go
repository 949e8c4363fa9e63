package judge

import (
	"fmt"
	"maps"
	"slices"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/world"
)

// Truth is the verdict each check of the character type should get on a charis-world
// sample, from the row's ground truth: a style the prompt names is changed as asked; an
// attribute the perturbation changed (identity_swap's list, recolour's part) is changed
// without being asked; the pattern under any style, and a body colour in a pencil sketch,
// are not visible (world.Draw drops them); everything else is kept.
func Truth(s *charis.Sample) (map[string]string, error) {
	t, err := world.TruthOf(s)
	if err != nil {
		return nil, err
	}
	changed := map[string]bool{}
	if d, ok := t.PerturbationTruth.(map[string]any); ok && t.Perturbation != nil {
		switch t.Perturbation.Kind {
		case world.IdentitySwap:
			list, _ := d["changed"].([]any)
			for _, a := range list {
				changed[fmt.Sprint(a)] = true
			}
		case world.Recolour:
			changed[fmt.Sprint(d["part"])+"_color"] = true
		}
	}
	style := t.Transforms.Get(world.Style)
	out := map[string]string{CheckType: charis.VerdictKept, CheckStyle: charis.VerdictKept}
	if style != "" {
		out[CheckStyle] = charis.VerdictRequested
	}
	for _, a := range world.Attributes {
		v := charis.VerdictKept
		if changed[a] {
			v = charis.VerdictDrifted
		}
		if (slices.Contains(noColour, style) && slices.Contains([]string{"head_color", "torso_color", "arms_color", "legs_color"}, a)) ||
			(a == "pattern" && styled(style)) {
			v = charis.VerdictNotVisible
		}
		out[a] = v
	}
	return out, nil
}

// AttributeAgreement is how often a backend's verdict on one check equals the truth's.
type AttributeAgreement struct {
	Attribute string
	Agree, N  int
}

// VariantAgreement sums up a variant of a charis-world benchmark.
type VariantAgreement struct {
	Variant    string
	Samples    int                  // judged samples with ground truth
	Agree, N   int                  // over every check
	Attributes []AttributeAgreement // in the type's check order
	// Flagged counts the samples with a changed (visible) attribute in which at least one
	// such attribute was judged changed without being asked; Changed counts the samples
	// with one.
	Flagged, Changed int
	// IC and TruthIC are the mean judge IC of the backend's verdicts and of the ground
	// truth's, over the ICN samples where both count a check. TruthIC is what a judge that
	// is never wrong would give: the ceiling of the judge IC's separations.
	IC, TruthIC float64
	ICN         int
}

// Agreement compares judgments with charis-world's ground truth, per variant (name
// order). Rows without a judgment are left out.
func Agreement(samples []charis.Sample, results []Result) ([]VariantAgreement, error) {
	by := map[string]*VariantAgreement{}
	attrIdx := map[string]map[string]int{}
	for i, r := range results {
		if r.Judgment == nil {
			continue
		}
		truth, err := Truth(&samples[i])
		if err != nil {
			return nil, err
		}
		v := by[r.Variant]
		if v == nil {
			v = &VariantAgreement{Variant: r.Variant}
			by[r.Variant], attrIdx[r.Variant] = v, map[string]int{}
		}
		v.Samples++
		hasChange, flagged := false, false
		for _, c := range r.Judgment.Checks {
			want, ok := truth[c.Attribute]
			if !ok {
				continue
			}
			j, seen := attrIdx[r.Variant][c.Attribute]
			if !seen {
				j = len(v.Attributes)
				attrIdx[r.Variant][c.Attribute] = j
				v.Attributes = append(v.Attributes, AttributeAgreement{Attribute: c.Attribute})
			}
			v.Attributes[j].N++
			v.N++
			if c.Verdict == want {
				v.Attributes[j].Agree++
				v.Agree++
			}
			if want == charis.VerdictDrifted {
				hasChange = true
				flagged = flagged || c.Verdict == charis.VerdictDrifted
			}
		}
		if ic, ok := charis.JudgeIC(r.Judgment.Checks); ok {
			if tic, ok := charis.JudgeIC(truthChecks(truth)); ok {
				v.IC += ic
				v.TruthIC += tic
				v.ICN++
			}
		}
		if hasChange {
			v.Changed++
			if flagged {
				v.Flagged++
			}
		}
	}
	var out []VariantAgreement
	for _, name := range slices.Sorted(maps.Keys(by)) {
		v := by[name]
		if v.ICN > 0 {
			v.IC /= float64(v.ICN)
			v.TruthIC /= float64(v.ICN)
		}
		out = append(out, *v)
	}
	return out, nil
}

// truthChecks turns Truth's verdicts into checks.
func truthChecks(truth map[string]string) []charis.JudgeCheck {
	var out []charis.JudgeCheck
	for a, v := range truth {
		out = append(out, charis.JudgeCheck{Attribute: a, Verdict: v})
	}
	return out
}
