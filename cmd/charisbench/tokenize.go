package main

import (
	"bufio"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/charis/clip"
)

func newTokenizeCmd() *cobra.Command {
	var (
		contextLength int
		vocab         string
	)
	c := &cobra.Command{
		Use:   "tokenize",
		Short: "Print CLIP input ids for each line of standard input",
		Long: `Read one text per line on standard input and print, per line, a JSON array of the
CLIP input ids (start token, BPE ids, end token, zero padding; cut to the context length
with the end token last), identical to openai/CLIP's clip.tokenize(text, truncate=True).`,
		Example: `  echo "a photo of a sks dog" | charisbench tokenize`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if contextLength < 2 {
				return fmt.Errorf("--context-length must be at least 2, got %d", contextLength)
			}
			tok, err := clip.Default()
			if vocab != "" {
				tok, err = clip.Load(vocab)
			}
			if err != nil {
				return err
			}
			sc := bufio.NewScanner(c.InOrStdin())
			sc.Buffer(make([]byte, 64*1024), 16<<20)
			w := bufio.NewWriter(c.OutOrStdout())
			enc := json.NewEncoder(w)
			for sc.Scan() {
				if err := enc.Encode(tok.Tokenize(sc.Text(), contextLength)); err != nil {
					return err
				}
			}
			if err := sc.Err(); err != nil {
				return fmt.Errorf("reading standard input: %w", err)
			}
			return w.Flush()
		},
	}
	c.Flags().IntVar(&contextLength, "context-length", clip.ContextLength, "number of input ids per text")
	c.Flags().StringVar(&vocab, "vocab", "", "BPE merges file (default: the built-in CLIP vocabulary)")
	return c
}
