// Package clip is the CLIP byte-pair-encoding tokenizer, identical to openai/CLIP's
// simple_tokenizer (clip.tokenize with truncate=True), where ftfy.fix_text is taken as the
// identity.
//
// It promises: Encode(text) equals simple_tokenizer's encode(text) id for id, and
// Tokenize(text, 77) equals clip.tokenize(text, truncate=True)[0]. Both are checked against
// golden outputs of the reference implementation. Ids are in [0, 49408).
package clip

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charisbench/charisbench/charis/readfile"
)

const (
	// ContextLength is the number of input ids CLIP's text encoder takes.
	ContextLength = 77
	// mergeCount is how many merge rules simple_tokenizer reads from the vocabulary file:
	// lines 1..48894 (49152 - 256 - 2), after the header line.
	mergeCount = 49152 - 256 - 2

	startToken = "<|startoftext|>"
	endToken   = "<|endoftext|>"
	wordEnd    = "</w>"
)

// pattern splits cleaned text into pre-tokens exactly as simple_tokenizer's regular
// expression does. Go's alternation is leftmost-first, like Python's.
var pattern = regexp.MustCompile(`<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+`)

// Tokenizer maps text to CLIP token ids. It is safe for concurrent use.
type Tokenizer struct {
	encoder     map[string]int    // BPE symbol -> id
	ranks       map[[2]string]int // merge pair -> priority (lower merges first)
	byteEncoder [256]string       // byte -> printable unicode symbol
	StartID     int               // id of <|startoftext|>
	EndID       int               // id of <|endoftext|>
}

// Load reads a BPE merges file (bpe_simple_vocab_16e6.txt, optionally gzip-compressed,
// decided by its content).
func Load(path string) (*Tokenizer, error) {
	f, err := readfile.Open("clip tokenizer", path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tok, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("clip tokenizer %s: %w", path, err)
	}
	return tok, nil
}

// Read builds a tokenizer from a BPE merges stream (plain text or gzip).
func Read(r io.Reader) (*Tokenizer, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer gz.Close()
		br = bufio.NewReader(gz)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var merges [][2]string
	for line := 0; sc.Scan(); line++ {
		if line == 0 {
			continue // version header
		}
		if len(merges) == mergeCount {
			break
		}
		parts := strings.Split(sc.Text(), " ")
		if len(parts) != 2 {
			return nil, fmt.Errorf("line %d: want two symbols separated by one space, got %q", line+1, sc.Text())
		}
		merges = append(merges, [2]string{parts[0], parts[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(merges) != mergeCount {
		return nil, fmt.Errorf("got %d merge rules, want %d", len(merges), mergeCount)
	}

	t := &Tokenizer{
		encoder: make(map[string]int, 2*256+mergeCount+2),
		ranks:   make(map[[2]string]int, mergeCount),
	}
	symbols := bytesToUnicode()
	vocab := make([]string, 0, 2*256+mergeCount+2)
	for b, s := range symbols {
		t.byteEncoder[b] = s
	}
	for _, b := range byteOrder() {
		vocab = append(vocab, symbols[b])
	}
	for _, b := range byteOrder() {
		vocab = append(vocab, symbols[b]+wordEnd)
	}
	for i, m := range merges {
		vocab = append(vocab, m[0]+m[1])
		t.ranks[m] = i
	}
	vocab = append(vocab, startToken, endToken)
	for id, s := range vocab {
		t.encoder[s] = id
	}
	t.StartID, t.EndID = t.encoder[startToken], t.encoder[endToken]
	return t, nil
}

// byteOrder is the order in which simple_tokenizer's bytes_to_unicode lists bytes: the
// printable ranges first ('!'..'~', '¡'..'¬', '®'..'ÿ'), then every other byte ascending.
func byteOrder() []int {
	var order []int
	printable := make(map[int]bool)
	for _, rg := range [][2]int{{'!', '~'}, {0xA1, 0xAC}, {0xAE, 0xFF}} {
		for b := rg[0]; b <= rg[1]; b++ {
			order = append(order, b)
			printable[b] = true
		}
	}
	for b := 0; b < 256; b++ {
		if !printable[b] {
			order = append(order, b)
		}
	}
	return order
}

// bytesToUnicode maps every byte to a printable rune: printable bytes to themselves, the
// others to 256, 257, ... in ascending byte order (simple_tokenizer's bytes_to_unicode).
func bytesToUnicode() map[int]string {
	m := make(map[int]string, 256)
	next := 256
	for i, b := range byteOrder() {
		if i < 188 { // 94 + 12 + 82 printable bytes map to themselves
			m[b] = string(rune(b))
			continue
		}
		m[b] = string(rune(next))
		next++
	}
	return m
}

// Encode returns the BPE ids of text without start/end tokens (simple_tokenizer.encode).
func (t *Tokenizer) Encode(text string) []int {
	var ids []int
	for _, tok := range pattern.FindAllString(clean(text), -1) {
		var sb strings.Builder
		for i := 0; i < len(tok); i++ {
			sb.WriteString(t.byteEncoder[tok[i]])
		}
		for _, sym := range t.bpe(sb.String()) {
			ids = append(ids, t.encoder[sym])
		}
	}
	return ids
}

// Tokenize returns exactly contextLength input ids: start token, Encode(text), end token,
// zero padding. A text too long is cut to contextLength ids with the last one replaced by
// the end token (clip.tokenize with truncate=True).
func (t *Tokenizer) Tokenize(text string, contextLength int) []int64 {
	ids := make([]int64, contextLength)
	n := 0
	put := func(id int) {
		if n < contextLength {
			ids[n] = int64(id)
			n++
		}
	}
	put(t.StartID)
	for _, id := range t.Encode(text) {
		put(id)
	}
	if n < contextLength {
		put(t.EndID)
	} else {
		ids[contextLength-1] = int64(t.EndID)
	}
	return ids
}

// bpe splits one pre-token (already mapped to byte symbols) into vocabulary symbols by
// repeatedly merging the adjacent pair with the lowest merge rank.
func (t *Tokenizer) bpe(token string) []string {
	if token == startToken || token == endToken {
		return []string{token} // simple_tokenizer's cache holds the special tokens as they are
	}
	var word []string
	for _, r := range token {
		word = append(word, string(r))
	}
	word[len(word)-1] += wordEnd
	for len(word) > 1 {
		best, bestRank := [2]string{}, -1
		for i := 0; i+1 < len(word); i++ {
			p := [2]string{word[i], word[i+1]}
			if r, ok := t.ranks[p]; ok && (bestRank < 0 || r < bestRank) {
				best, bestRank = p, r
			}
		}
		if bestRank < 0 {
			break
		}
		merged := word[:0:0]
		for i := 0; i < len(word); {
			if i+1 < len(word) && word[i] == best[0] && word[i+1] == best[1] {
				merged = append(merged, best[0]+best[1])
				i += 2
				continue
			}
			merged = append(merged, word[i])
			i++
		}
		word = merged
	}
	return word
}

// clean applies simple_tokenizer's basic_clean (HTML unescaped twice, stripped),
// whitespace_clean (runs of whitespace to one space, stripped) and lower-casing.
func clean(text string) string {
	text = strings.TrimFunc(html.UnescapeString(html.UnescapeString(text)), isPySpace)
	var sb strings.Builder
	inSpace := false
	for _, r := range text {
		if unicode.Is(unicode.White_Space, r) {
			inSpace = true
			continue
		}
		if inSpace && sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		inSpace = false
		sb.WriteRune(r)
	}
	return pyLower(sb.String())
}

// isPySpace reports whether Python's str.isspace() holds for r (what str.strip removes):
// Unicode White_Space plus the information separators U+001C..U+001F.
func isPySpace(r rune) bool {
	return unicode.Is(unicode.White_Space, r) || (r >= 0x1C && r <= 0x1F)
}

// pyLower lower-cases like Python's str.lower(): rune-wise, except U+0130 (İ) becomes
// "i̇" and a capital sigma that ends a word becomes the final form ς.
func pyLower(s string) string {
	var sb strings.Builder
	for i, r := range s {
		switch {
		case r == 'İ':
			sb.WriteString("i\u0307")
		case r == 'Σ' && finalSigma(s, i):
			sb.WriteRune('ς')
		default:
			sb.WriteRune(unicode.ToLower(r))
		}
	}
	return sb.String()
}

// finalSigma reports whether the Σ at byte offset i follows a cased letter and is not
// followed by one (Unicode's Final_Sigma condition, ignoring case-ignorable characters).
func finalSigma(s string, i int) bool {
	before, after := s[:i], s[i+len("Σ"):]
	prevCased := false
	for len(before) > 0 {
		r, size := utf8.DecodeLastRuneInString(before)
		before = before[:len(before)-size]
		if isCaseIgnorable(r) {
			continue
		}
		prevCased = isCased(r)
		break
	}
	if !prevCased {
		return false
	}
	for _, r := range after {
		if isCaseIgnorable(r) {
			continue
		}
		return !isCased(r)
	}
	return true
}

func isCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
}

func isCaseIgnorable(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk) ||
		r == '\'' || r == '.' || r == ':' || r == '^' || r == '`' || r == 0xB7 || r == 0x2019
}
