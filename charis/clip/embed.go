package clip

import (
	"bytes"
	_ "embed"
	"sync"
)

// bpeVocab is OpenAI CLIP's BPE merges file (MIT License, Copyright (c) 2021 OpenAI),
// byte-identical to clip/bpe_simple_vocab_16e6.txt.gz in openai/CLIP,
// sha256 924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a.
//
//go:embed bpe_simple_vocab_16e6.txt.gz
var bpeVocab []byte

// VocabSHA256 identifies the built-in vocabulary.
const VocabSHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"

var builtin = sync.OnceValues(func() (*Tokenizer, error) { return Read(bytes.NewReader(bpeVocab)) })

// Default returns the tokenizer built from the embedded CLIP vocabulary. It is built once.
func Default() (*Tokenizer, error) { return builtin() }
