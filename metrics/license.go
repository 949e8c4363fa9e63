package metrics

import (
	"strings"
	"unicode"

	"github.com/charisbench/charisbench/charis"
)

// License is why CF does not apply to a sample: the prompt asks for a change of the
// subject's colours (CHARIS v2, change 3).
type License struct {
	Kind   string // style | lighting | attire | colour
	Word   string // the list entry that matched
	Phrase string // the clause of the prompt it is in
}

// ColourLicense reports whether a prompt licenses a change of the subject's colours, and
// by which phrase. Style, lighting and attire entries count anywhere in the prompt; a
// colour entry only in the subject's own phrase: the words before the first comma,
// semicolon or boundary word ("a red sks backpack" licenses, "a sks backpack on top of
// pink fabric" does not). Entries match whole words, case-insensitively; an entry of
// several words matches them in sequence.
func ColourLicense(prompt string, l *charis.CFLicense) (License, bool) {
	if l == nil {
		return License{}, false
	}
	words, clause := promptWords(prompt)
	for _, group := range []struct {
		kind    string
		entries []string
	}{{"style", l.Style}, {"lighting", l.Lighting}, {"attire", l.Attire}} {
		for _, e := range group.entries {
			if i := findWords(words, e); i >= 0 {
				return License{Kind: group.kind, Word: e, Phrase: clauseAt(prompt, clause[i])}, true
			}
		}
	}
	subject := len(words)
	for i, w := range words {
		if clause[i] > 0 || containsFold(l.Boundaries, w) {
			subject = i
			break
		}
	}
	for _, e := range l.Colours {
		if i := findWords(words[:subject], e); i >= 0 {
			return License{Kind: "colour", Word: e, Phrase: clauseAt(prompt, 0)}, true
		}
	}
	return License{}, false
}

// promptWords splits a prompt into lower-case words (letters, digits, apostrophes) and
// gives each word the index of its clause (clauses end at commas and semicolons).
func promptWords(prompt string) ([]string, []int) {
	var words []string
	var clause []int
	c := 0
	for _, f := range strings.FieldsFunc(strings.ToLower(prompt), func(r rune) bool { return unicode.IsSpace(r) }) {
		for f != "" {
			i := strings.IndexAny(f, ",;")
			head := f
			if i >= 0 {
				head = f[:i]
			}
			if w := strings.TrimFunc(head, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }); w != "" {
				words, clause = append(words, w), append(clause, c)
			}
			if i < 0 {
				break
			}
			c++
			f = f[i+1:]
		}
	}
	return words, clause
}

// findWords returns where the words of entry start in words, or -1.
func findWords(words []string, entry string) int {
	e := strings.Fields(strings.ToLower(entry))
	if len(e) == 0 {
		return -1
	}
	for i := 0; i+len(e) <= len(words); i++ {
		match := true
		for j := range e {
			if words[i+j] != e[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

func containsFold(list []string, w string) bool {
	for _, x := range list {
		if strings.EqualFold(x, w) {
			return true
		}
	}
	return false
}

// clauseAt returns clause i of the prompt (split on commas and semicolons), trimmed.
func clauseAt(prompt string, i int) string {
	parts := strings.Split(strings.ReplaceAll(prompt, ";", ","), ",")
	if i < len(parts) {
		return strings.TrimSpace(parts[i])
	}
	return strings.TrimSpace(prompt)
}
