package encoder

import (
	"fmt"
	"image"

	"github.com/charisbench/charisbench/charis"
)

// Embeddings returns one vector per input from an encoder that embeds: the CLS token of
// an identity encoder (the mean patch token when it has no CLS), the image or text
// embedding of a CLIP tower. Text encoders take texts, image encoders images.
func (s *Session) Embeddings(imgs []*image.RGBA, texts []string) ([][]float32, error) {
	var out *Tensor
	var err error
	switch s.spec.Role {
	case charis.RoleCLIPText:
		out, err = s.EncodeTexts(texts)
	case charis.RoleIdentity, charis.RoleCLIPImage:
		out, err = s.EncodeImages(imgs)
	default:
		return nil, fmt.Errorf("%w: a %s encoder gives no embeddings (use identity, clip_image or clip_text)", ErrRole, s.spec.Role)
	}
	if err != nil {
		return nil, err
	}
	vecs := make([][]float32, out.Shape[0])
	for i := range vecs {
		if s.spec.Role != charis.RoleIdentity {
			vecs[i] = out.Row(i)
			continue
		}
		cls, patches, _ := s.Tokens(out, i)
		if cls != nil {
			vecs[i] = cls
			continue
		}
		d := out.Shape[2]
		mean := make([]float32, d)
		for p := 0; p < len(patches); p += d {
			for j := range d {
				mean[j] += patches[p+j] / float32(len(patches)/d)
			}
		}
		vecs[i] = mean
	}
	return vecs, nil
}
