package judge

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/world"
)

func reading0() reading {
	return reading{
		class: map[string]string{"head_shape": "circle", "torso_shape": "ellipse", "build": "slim", "height": "tall",
			"accessory": "hat", "pattern": "dots", "style": "none"},
		rgb: map[string][3]uint8{"head_color": {214, 48, 49}, "torso_color": {44, 92, 206}, "arms_color": {56, 166, 72}, "legs_color": {236, 204, 40}},
	}
}

func clone(r reading) reading {
	return reading{class: maps.Clone(r.class), rgb: maps.Clone(r.rgb)}
}

func verdicts(cs []charis.JudgeCheck) map[string]string {
	out := map[string]string{}
	for _, c := range cs {
		out[c.Attribute] = c.Verdict
	}
	return out
}

// TestProbeCompare: the probe's verdicts from two readings: the same reading keeps every
// check; a class that differs drifts; a named style is changed as asked, an unnamed one
// without; a style without fill hides the colours; a colour drifts only past the ΔE bound.
func TestProbeCompare(t *testing.T) {
	p := &Probe{deltaE: DefaultColourDeltaE}
	r := reading0()
	typ, _ := DefaultKB().TypeFor(world.Class)
	same := p.compare(r, clone(r), "the character, at night")
	if len(same) != len(typ.Checks()) {
		t.Fatalf("%d checks, the character type lists %d", len(same), len(typ.Checks()))
	}
	for _, c := range same {
		if c.Verdict != charis.VerdictKept {
			t.Fatalf("same reading: %+v", c)
		}
	}
	g := clone(r)
	g.class["accessory"], g.class["height"] = "scarf", "short"
	g.rgb["torso_color"] = [3]uint8{46, 94, 204} // a few levels: kept
	g.rgb["head_color"] = [3]uint8{128, 64, 186} // red to purple: drifted
	v := verdicts(p.compare(r, g, "the character"))
	want := map[string]string{"accessory": charis.VerdictDrifted, "proportions": charis.VerdictDrifted,
		"torso_color": charis.VerdictKept, "head_color": charis.VerdictDrifted, "pattern": charis.VerdictKept}
	for a, w := range want {
		if v[a] != w {
			t.Fatalf("%s: %s, want %s (all: %v)", a, v[a], w, v)
		}
	}
	g = clone(r)
	g.class["style"] = "sketch"
	v = verdicts(p.compare(r, g, "the character, as a pencil sketch"))
	if v["style"] != charis.VerdictRequested || v["head_color"] != charis.VerdictNotVisible {
		t.Fatalf("asked sketch: %v", v)
	}
	if v = verdicts(p.compare(r, g, "the character, on a green background")); v["style"] != charis.VerdictDrifted {
		t.Fatalf("unasked sketch: %v", v)
	}
}

// TestTruthAndAgreement: charis-world's ground truth gives identity_swap's changed
// attributes and recolour's part as drifted, a style as asked, colours under an outline
// as not visible; verdicts equal to the truth agree everywhere and flag every change, and
// one wrong verdict is counted.
func TestTruthAndAgreement(t *testing.T) {
	dir := t.TempDir()
	opt := world.BuildOptions{Subjects: 3, PromptsPerSubject: 3, Seed: 5}
	for _, p := range []string{"identity_swap@1", "recolour@1"} {
		pp, _ := world.ParsePerturbation(p)
		opt.Perturbations = append(opt.Perturbations, pp)
	}
	if err := world.Build(dir, opt); err != nil {
		t.Fatal(err)
	}
	samples, err := charis.ReadManifest(dir + "/manifest.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var results []Result
	for i := range samples {
		truth, err := Truth(&samples[i])
		if err != nil {
			t.Fatal(err)
		}
		var wt world.Truth
		json.Unmarshal(samples[i].World, &wt)
		switch samples[i].Variant {
		case "recolour@1":
			part := wt.PerturbationTruth.(map[string]any)["part"].(string)
			if wt.Transforms.Get(world.Style) != "outline" && wt.Transforms.Get(world.Style) != "sketch" && truth[part+"_color"] != charis.VerdictDrifted {
				t.Fatalf("%s: recoloured %s not drifted in %v", samples[i].ID, part, truth)
			}
		case "ground_truth":
			for a, v := range truth {
				if v == charis.VerdictDrifted {
					t.Fatalf("%s: ground truth has %s drifted", samples[i].ID, a)
				}
			}
		}
		if wt.Transforms.Get(world.Style) != "" && truth[CheckStyle] != charis.VerdictRequested {
			t.Fatalf("%s: a prompted style is %s", samples[i].ID, truth[CheckStyle])
		}
		j := &charis.Judgment{}
		for _, name := range append([]string{CheckType, CheckStyle}, world.Attributes...) {
			j.Checks = append(j.Checks, charis.JudgeCheck{Attribute: name, Verdict: truth[name]})
		}
		results = append(results, Result{Variant: samples[i].Variant, Judgment: j})
	}
	agr, err := Agreement(samples, results)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range agr {
		if v.Agree != v.N || v.Flagged != v.Changed || (v.Variant != "ground_truth" && v.Changed == 0) {
			t.Fatalf("perfect verdicts: %+v", v)
		}
	}
	results[0].Judgment.Checks[2].Verdict = charis.VerdictNotVisible
	agr, _ = Agreement(samples, results)
	if gt := agr[0]; gt.Variant != "ground_truth" || gt.Agree != gt.N-1 {
		t.Fatalf("one wrong verdict: %+v", gt)
	}
}
