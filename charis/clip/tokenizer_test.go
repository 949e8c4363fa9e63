package clip

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sharedData is ../shared/data/clip beside the repository, as CI lays it out.
const sharedData = "../../../shared/data/clip"

func TestEmbeddedVocabHash(t *testing.T) {
	sum := sha256.Sum256(bpeVocab)
	if got := hex.EncodeToString(sum[:]); got != VocabSHA256 {
		t.Fatalf("embedded vocabulary sha256 = %s, want %s", got, VocabSHA256)
	}
}

func TestGolden(t *testing.T) {
	path := filepath.Join(sharedData, "golden_tokens.jsonl")
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		t.Skipf("golden tokens not found at %s (CI provides ../shared beside the repository)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for line := 1; sc.Scan(); line++ {
		var g struct {
			Text  string  `json:"text"`
			BPE   []int   `json:"bpe_ids"`
			Input []int64 `json:"input_ids_77"`
		}
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		if got := tok.Encode(g.Text); !slices.Equal(got, g.BPE) && !(len(got) == 0 && len(g.BPE) == 0) {
			t.Errorf("%s:%d: Encode(%q)\n got  %v\n want %v", path, line, g.Text, got, g.BPE)
		}
		if got := tok.Tokenize(g.Text, ContextLength); !slices.Equal(got, g.Input) {
			t.Errorf("%s:%d: Tokenize(%q)\n got  %v\n want %v", path, line, g.Text, got, g.Input)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 300 {
		t.Fatalf("read %d golden lines, want 300", n)
	}
}

func TestLoadFileMatchesEmbedded(t *testing.T) {
	path := filepath.Join(sharedData, "bpe_simple_vocab_16e6.txt.gz")
	if _, err := os.Stat(path); os.IsNotExist(err) {
		t.Skipf("vocabulary not found at %s (CI provides ../shared beside the repository)", path)
	}
	fromFile, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	const text = "a photo of a sks dog, turned left"
	if a, b := fromFile.Encode(text), builtin.Encode(text); !slices.Equal(a, b) {
		t.Fatalf("file tokenizer %v != embedded %v", a, b)
	}
}

func TestTokenizeTruncates(t *testing.T) {
	tok, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	long := ""
	for range 100 {
		long += "dog "
	}
	ids := tok.Tokenize(long, ContextLength)
	if len(ids) != ContextLength || ids[0] != int64(tok.StartID) || ids[ContextLength-1] != int64(tok.EndID) {
		t.Fatalf("truncated ids: len %d first %d last %d", len(ids), ids[0], ids[len(ids)-1])
	}
	empty := tok.Tokenize("", ContextLength)
	if empty[0] != int64(tok.StartID) || empty[1] != int64(tok.EndID) || empty[2] != 0 {
		t.Fatalf("empty text ids start %v", empty[:3])
	}
}

func TestReadRejectsShortVocab(t *testing.T) {
	if _, err := Read(strings.NewReader("#version: 0.2\na b\n")); err == nil {
		t.Fatal("Read accepted a vocabulary with one merge rule")
	}
}
