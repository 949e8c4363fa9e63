package encoder

import (
	"fmt"
	"image"
	"image/color"
	"time"

	"github.com/charisbench/charisbench/charis"
)

// Check is the verification of one encoder of a manifest.
type Check struct {
	Name, Role    string
	Path, SHA256  string
	Input, Output string  // "name [dims]" as the model declares them
	BatchShape    []int   // output shape of the test batch
	Seconds       float64 // time of the test batch
	Err           error   // nil when every check passed
}

// verifyBatch is the number of synthetic inputs each encoder runs in Verify.
const verifyBatch = 2

// Verify checks every encoder of a manifest: file present, sha256, input and output
// signatures against the role, and one batch of synthetic inputs run to finite outputs.
func (rt *Runtime) Verify(m *charis.ModelManifest) []Check {
	checks := make([]Check, len(m.Encoders))
	for i := range m.Encoders {
		e := &m.Encoders[i]
		c := &checks[i]
		c.Name, c.Role, c.Path, c.SHA256 = e.Name, string(e.Role), m.ModelPath(e), e.SHA256
		s, err := rt.Load(m, e.Role)
		if err != nil {
			c.Err = err
			continue
		}
		name, dims := s.InputInfo()
		c.Input = fmt.Sprintf("%s %v", name, dims)
		name, dims = s.OutputInfo()
		c.Output = fmt.Sprintf("%s %v", name, dims)
		start := time.Now()
		var out *Tensor
		if e.Role == charis.RoleCLIPText {
			out, err = s.EncodeTexts([]string{"a photo of a dog", "the character, turned left, in dim light"})
		} else {
			out, err = s.EncodeImages(syntheticImages(verifyBatch))
		}
		c.Seconds = time.Since(start).Seconds()
		if err != nil {
			c.Err = err
		} else if c.BatchShape = out.Shape; out.Shape[0] != verifyBatch {
			c.Err = fmt.Errorf("%d inputs gave %d output rows", verifyBatch, out.Shape[0])
		}
		s.Close()
	}
	return checks
}

// syntheticImages are n different 320×240 gradients: enough to exercise preprocessing.
func syntheticImages(n int) []*image.RGBA {
	imgs := make([]*image.RGBA, n)
	for k := range imgs {
		img := image.NewRGBA(image.Rect(0, 0, 320, 240))
		for y := 0; y < 240; y++ {
			for x := 0; x < 320; x++ {
				img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / 319), uint8(y * 255 / 239), uint8(80 * k), 255})
			}
		}
		imgs[k] = img
	}
	return imgs
}
