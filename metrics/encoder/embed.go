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

// Masks runs a segmenter: per image, a subject mask of the image's own size, 255 (in every
// channel) where the logit of the nearest output pixel is above 0, else 0.
func (s *Session) Masks(imgs []*image.RGBA) ([]*image.RGBA, error) {
	if s.spec.Role != charis.RoleSegmenter {
		return nil, fmt.Errorf("%w: a %s encoder makes no masks (use a segmenter)", ErrRole, s.spec.Role)
	}
	t, err := s.EncodeImages(imgs)
	if err != nil {
		return nil, err
	}
	mh, mw := t.Shape[len(t.Shape)-2], t.Shape[len(t.Shape)-1]
	masks := make([]*image.RGBA, len(imgs))
	for i, img := range imgs {
		logits := t.Row(i)
		w, h := img.Rect.Dx(), img.Rect.Dy()
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			row := logits[(y*mh/h)*mw:]
			for x := range w {
				v := uint8(0)
				if row[x*mw/w] > 0 {
					v = 255
				}
				o := m.PixOffset(x, y)
				m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = v, v, v, 255
			}
		}
		masks[i] = m
	}
	return masks, nil
}
