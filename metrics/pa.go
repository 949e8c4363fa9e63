package metrics

import (
	"regexp"
	"strings"

	"github.com/charisbench/charisbench/charis"
)

// PA is prompt adherence (spec axis 2): cosine(CLIP_img(G), CLIP_txt(P')), P' being the
// prompt with identifier tokens removed; PA = calibrate(PA_raw). Diagnostics give the
// cosine of each clause of the prompt.
func PA(image, prompt []float32, clauses []string, clauseVecs [][]float32, cal *charis.Calibration) charis.AxisValue {
	raw := charis.Cosine(image, prompt)
	per := make(map[string]float64, len(clauses))
	for i, c := range clauses {
		per[c] = charis.Cosine(image, clauseVecs[i])
	}
	return charis.AxisValue{Raw: raw, Score: cal.Calibrate(raw), Diag: map[string]any{"clauses": per}}
}

var spaces = regexp.MustCompile(`\s+`)

// StripIdentifiers removes identifier words ("sks") from a prompt, case-insensitively and
// as whole words, and tidies the spaces left behind.
func StripIdentifiers(prompt string, identifiers []string) string {
	if len(identifiers) == 0 {
		return prompt
	}
	quoted := make([]string, len(identifiers))
	for i, id := range identifiers {
		quoted[i] = regexp.QuoteMeta(id)
	}
	re := regexp.MustCompile(`(?i)\b(?:` + strings.Join(quoted, "|") + `)\b`)
	out := spaces.ReplaceAllString(re.ReplaceAllString(prompt, ""), " ")
	return strings.TrimSpace(strings.ReplaceAll(out, " ,", ","))
}

var clauseSplit = regexp.MustCompile(`\s*[,;]\s*|\s+and\s+`)

// Clauses splits a prompt on commas, semicolons and " and ", dropping empty pieces.
func Clauses(prompt string) []string {
	var out []string
	for _, c := range clauseSplit.Split(prompt, -1) {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}
