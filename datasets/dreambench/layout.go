package dreambench

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DefaultLayout is where generated images are looked for, relative to the generated
// folder: a folder per subject, files named by prompt index (two digits) and sample.
const DefaultLayout = "{subject}/{prompt_index}_{sample}.{ext}"

// Layout maps (subject, prompt index, sample) to a generated image's path. Its fields are
// {subject}, {class}, {prompt_index} (two digits, 00-24), {sample} (0, 1, ...) and {ext}
// (png, jpg, jpeg or webp, tried in that order).
type Layout struct {
	text string
	re   *regexp.Regexp // the layout's shape, to find files it names that the dataset lacks
}

var fieldRE = regexp.MustCompile(`\{[^{}]*\}`)

// ParseLayout reads a layout; {subject}, {prompt_index} and {sample} are required, so that
// every sample has a file of its own.
func ParseLayout(text string) (Layout, error) {
	groups := map[string]string{
		"{subject}": `(?P<subject>[^/]+)`, "{class}": `[^/]+`, "{prompt_index}": `(?P<prompt>[0-9]+)`,
		"{sample}": `(?P<sample>[0-9]+)`, "{ext}": `(?:png|jpg|jpeg|webp)`,
	}
	var expr strings.Builder
	last := 0
	for _, at := range fieldRE.FindAllStringIndex(text, -1) {
		f := text[at[0]:at[1]]
		g, ok := groups[f]
		if !ok {
			return Layout{}, fmt.Errorf("layout %q: unknown field %s (want {subject}, {class}, {prompt_index}, {sample}, {ext})", text, f)
		}
		expr.WriteString(regexp.QuoteMeta(text[last:at[0]]) + g)
		last = at[1]
	}
	expr.WriteString(regexp.QuoteMeta(text[last:]))
	for _, f := range []string{"{subject}", "{prompt_index}", "{sample}"} {
		if strings.Count(text, f) != 1 {
			return Layout{}, fmt.Errorf("layout %q: want %s exactly once", text, f)
		}
	}
	if strings.HasPrefix(text, "/") || strings.Contains("/"+text+"/", "/../") {
		return Layout{}, fmt.Errorf("layout %q: want a path inside the generated folder", text)
	}
	re, err := regexp.Compile(`^` + expr.String() + `$`)
	if err != nil {
		return Layout{}, fmt.Errorf("layout %q: %v", text, err)
	}
	return Layout{text: text, re: re}, nil
}

// Paths are the candidate paths of one sample, one per extension when the layout has {ext}.
func (l Layout) Paths(s Subject, prompt, sample int) []string {
	r := strings.NewReplacer("{subject}", s.Name, "{class}", s.Class,
		"{prompt_index}", fmt.Sprintf("%02d", prompt), "{sample}", strconv.Itoa(sample))
	p := r.Replace(l.text)
	if !strings.Contains(p, "{ext}") {
		return []string{p}
	}
	var out []string
	for _, e := range imageExts {
		out = append(out, strings.ReplaceAll(p, "{ext}", e))
	}
	return out
}

// match reads the fields of a path (slash-separated, relative to the generated folder) in
// the layout's shape; ok is false for a file the layout does not describe.
func (l Layout) match(rel string) (subject string, prompt, sample int, ok bool) {
	m := l.re.FindStringSubmatch(rel)
	if m == nil {
		return "", 0, 0, false
	}
	subject = m[l.re.SubexpIndex("subject")]
	prompt, err1 := strconv.Atoi(m[l.re.SubexpIndex("prompt")])
	sample, err2 := strconv.Atoi(m[l.re.SubexpIndex("sample")])
	return subject, prompt, sample, err1 == nil && err2 == nil
}
