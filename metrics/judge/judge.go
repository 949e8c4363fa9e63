// Package judge is the hierarchical identity judge of CHARIS (docs/judge.md): for a
// (reference, prompt, generated) sample it checks, top down, the subject's type and
// style, then the attributes and features the knowledge base lists for its type, each
// answered kept / changed as the prompt asks / changed without being asked / not
// visible, with what it was and what it became. Judge IC = kept / (kept + changed without
// being asked).
//
// Backends answer the checks: vlm asks an OpenAI-compatible vision-language model server;
// probe reads charis-world characters' attributes with the world's attributes model.
package judge

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/charisbench/charisbench/charis"
)

// Protocol versions the questions and the answer's form; cached answers are keyed by it.
const Protocol = "charis-judge-v1"

// Image is an image file's bytes as a backend receives them.
type Image struct {
	Data   []byte
	SHA256 string
}

// MIME is the image's media type, from its first bytes.
func (im Image) MIME() string { return http.DetectContentType(im.Data) }

// Sample is what a backend judges.
type Sample struct {
	ID                   string
	Prompt               string
	Type                 *Type
	Reference, Generated Image
}

// Backend answers a sample's checks.
type Backend interface {
	Name() string  // vlm or probe
	Model() string // what answers, for provenance
	// Judge returns one check per entry of s.Type.Checks(). An error is the sample's.
	Judge(ctx context.Context, s *Sample) ([]charis.JudgeCheck, error)
}

// Judge runs a backend on a sample and checks its answer against the protocol: every
// check answered once, by name, with a known verdict; levels come from the knowledge base.
func Judge(ctx context.Context, b Backend, s *Sample) (*charis.Judgment, error) {
	checks, err := b.Judge(ctx, s)
	if err != nil {
		return nil, err
	}
	want := s.Type.Checks()
	byName := map[string]charis.JudgeCheck{}
	for _, c := range checks {
		if _, dup := byName[c.Attribute]; dup {
			return nil, fmt.Errorf("%s answered %q twice", b.Name(), c.Attribute)
		}
		if !slices.Contains(charis.Verdicts, c.Verdict) {
			return nil, fmt.Errorf("%s answered %q with verdict %q (want one of %v)", b.Name(), c.Attribute, c.Verdict, charis.Verdicts)
		}
		byName[c.Attribute] = c
	}
	j := &charis.Judgment{Backend: b.Name(), Model: b.Model(), Protocol: Protocol, Type: s.Type.Name}
	for _, a := range want {
		c, ok := byName[a.Name]
		if !ok {
			return nil, fmt.Errorf("%s did not answer %q", b.Name(), a.Name)
		}
		delete(byName, a.Name)
		c.Level = a.Level
		j.Checks = append(j.Checks, c)
	}
	for name := range byName {
		return nil, fmt.Errorf("%s answered %q, which type %s does not list", b.Name(), name, s.Type.Name)
	}
	if ic, ok := charis.JudgeIC(j.Checks); ok {
		j.IC = &ic
	}
	return j, nil
}
