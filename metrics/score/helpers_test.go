package score

import (
	"image"
	"image/png"
	"io"

	"github.com/charisbench/charisbench/charis/preprocess"
)

// pngEncode writes img resized to w×h as PNG.
func pngEncode(w io.Writer, img *image.RGBA, width, height int) error {
	r, err := preprocess.Resize(img, width, height, preprocess.Bilinear)
	if err != nil {
		return err
	}
	return png.Encode(w, r)
}
