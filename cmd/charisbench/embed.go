package main

import (
	"fmt"
	"image"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
)

// embedOutput is what `charisbench embed` prints.
type embedOutput struct {
	Encoder string      `json:"encoder"`
	Role    string      `json:"role"`
	SHA256  string      `json:"sha256"`
	Device  string      `json:"device"`
	Items   []embedItem `json:"items"`
	Cosine  [][]float64 `json:"cosine"` // [i][j] = cosine(items[i], items[j])
}

type embedItem struct {
	Input     string    `json:"input"`
	Embedding []float32 `json:"embedding"`
}

func newEmbedCmd() *cobra.Command {
	var (
		rf     runtimeFlags
		models string
		role   string
	)
	c := &cobra.Command{
		Use:   "embed --models MANIFEST --role ROLE INPUT...",
		Short: "Print embeddings and their pairwise cosines as JSON",
		Long: `Run one encoder of a model manifest and print, as JSON, one embedding per input and the
matrix of pairwise cosines. Inputs are image files for the identity role (its CLS token)
and clip_image, and prompts for clip_text.`,
		Example: `  charisbench embed --models testdata/models/models.yaml --role identity a.png b.png
  charisbench embed --models testdata/models/models.yaml --role clip_text "a red robot" "a blue robot"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if models == "" {
				return fmt.Errorf("--models MANIFEST is required")
			}
			m, err := charis.LoadModelManifest(models)
			if err != nil {
				return err
			}
			r := charis.Role(role)
			if m.Encoder(r) == nil {
				return fmt.Errorf("%s declares no %q encoder", models, role)
			}
			var imgs []*image.RGBA
			if r != charis.RoleCLIPText {
				for _, p := range args {
					img, err := imageio.ReadFile(p, imageio.Options{})
					if err != nil {
						return err
					}
					imgs = append(imgs, img)
				}
			}
			rt, err := rf.open()
			if err != nil {
				return err
			}
			defer rt.Close()
			s, err := rt.Load(m, r)
			if err != nil {
				return err
			}
			defer s.Close()
			vecs, err := s.Embeddings(imgs, args)
			if err != nil {
				return err
			}
			out := embedOutput{Encoder: s.Spec().Name, Role: role, SHA256: s.SHA256(), Device: string(rt.Device())}
			for i, v := range vecs {
				out.Items = append(out.Items, embedItem{Input: args[i], Embedding: v})
				row := make([]float64, len(vecs))
				for j := range vecs {
					row[j] = charis.Cosine(v, vecs[j])
				}
				out.Cosine = append(out.Cosine, row)
			}
			return printJSON(c.OutOrStdout(), out)
		},
	}
	c.Flags().StringVar(&models, "models", "", "model manifest (models.yaml)")
	c.Flags().StringVar(&role, "role", string(charis.RoleIdentity), "encoder role: identity, clip_image or clip_text")
	rf.register(c)
	return c
}
