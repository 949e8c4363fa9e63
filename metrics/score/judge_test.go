package score

import (
	"context"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/judge"
)

// fakeJudge answers every check kept, except that it calls the accessory drifted in the
// identity_swap variant.
type fakeJudge struct{}

func (fakeJudge) Name() string  { return "fake" }
func (fakeJudge) Model() string { return "rules" }
func (fakeJudge) Judge(_ context.Context, s *judge.Sample) ([]charis.JudgeCheck, error) {
	var out []charis.JudgeCheck
	for _, a := range s.Type.Checks() {
		v := charis.VerdictKept
		if a.Name == "accessory" && strings.Contains(s.ID, "identity_swap") {
			v = charis.VerdictDrifted
		}
		out = append(out, charis.JudgeCheck{Attribute: a.Name, Verdict: v})
	}
	return out, nil
}

// TestScoreWithJudge: score --judge writes each sample's verdicts beside its axes and judge
// IC as the axis judge_ic, which the summary bootstraps and lists drift for, and which
// CHARIS leaves out; the judge's answer is part of what the sample cache keys on.
func TestScoreWithJudge(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 3, 2, "identity_swap@1")
	plain := options(t, rt, dir)
	if _, err := Run(context.Background(), plain); err != nil {
		t.Fatal(err)
	}
	withJudge := options(t, rt, dir)
	withJudge.Judge = &JudgeOptions{Backend: fakeJudge{}, KB: judge.DefaultKB()}
	sum, err := Run(context.Background(), withJudge)
	if err != nil {
		t.Fatal(err)
	}
	a, b := readResults(t, plain.Out), readResults(t, withJudge.Out)
	for i := range b {
		if b[i].Judge == nil || b[i].Judge.Type != "character" || len(b[i].Judge.Checks) != 11 {
			t.Fatalf("%s: judgment %+v", b[i].ID, b[i].Judge)
		}
		want := 1.0
		if b[i].Variant != "ground_truth" {
			want = 10.0 / 11
		}
		if got := b[i].Axes[charis.AxisJudgeIC].Score; got != want {
			t.Fatalf("%s: judge_ic %v, want %v", b[i].ID, got, want)
		}
		if *a[i].CHARIS != *b[i].CHARIS || a[i].Judge != nil {
			t.Fatalf("%s: the judge changed CHARIS (%v vs %v) or a plain run has a judgment", b[i].ID, *a[i].CHARIS, *b[i].CHARIS)
		}
	}
	v := sum.Variants["identity_swap@1"]
	if v == nil || v.JudgeIC == nil || v.JudgeIC.Mean != 10.0/11 || len(v.Drifted) != 1 || v.Drifted[0].Attribute != "accessory" {
		t.Fatalf("identity_swap summary: %+v", v)
	}
	if gt := sum.Variants["ground_truth"]; gt.JudgeIC == nil || gt.JudgeIC.Mean != 1 || len(gt.Drifted) != 0 {
		t.Fatalf("ground truth summary: %+v", gt)
	}
	if _, ok := sum.Variants["ground_truth"].Axes[charis.AxisJudgeIC]; ok {
		t.Fatalf("judge_ic listed among the CHARIS axes")
	}
}
