package judge

import (
	"os"
	"testing"

	"github.com/charisbench/charisbench/internal/fuzzcheck"
)

// FuzzKB: any bytes as a knowledge base parse or fail naming the file.
func FuzzKB(f *testing.F) {
	data, err := os.ReadFile("kb.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("version: 1\ntypes: [{name: a}, {name: a}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzcheck.Bounded(t, func() {
			_, err := parseKB(data, "kb-under-test.yaml")
			fuzzcheck.NamesFile(t, err, "kb-under-test.yaml")
		})
	})
}

// FuzzVLMAnswer: any text as the vision-language model's answer parses to checks or fails;
// parsed checks are never empty.
func FuzzVLMAnswer(f *testing.F) {
	for _, p := range []string{"testdata/vlm/answer.json", "testdata/vlm/malformed.json", "testdata/vlm/missing_check.json"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(string(data))
		}
	}
	f.Add(`{"checks":[{"attribute":"colour","verdict":"same"}]}`)
	f.Fuzz(func(t *testing.T, content string) {
		fuzzcheck.Bounded(t, func() {
			checks, err := parseAnswer(content)
			if err == nil && len(checks) == 0 {
				t.Fatal("an answer parsed to no checks")
			}
		})
	})
}
