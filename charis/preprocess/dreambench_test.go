package preprocess_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/charis/imageio/turbojpeg"
	"github.com/charisbench/charisbench/charis/preprocess"
)

// rgbSHA hashes an image's RGB bytes, row by row, as Pillow's tobytes() lays them out.
func rgbSHA(img *image.RGBA) string {
	h := sha256.New()
	row := make([]byte, 3*img.Rect.Dx())
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		p := img.Pix[img.PixOffset(img.Rect.Min.X, y):]
		for x := range img.Rect.Dx() {
			copy(row[3*x:], p[4*x:4*x+3])
		}
		h.Write(row)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDreamBenchLikePillow: every shared DreamBench photo (real camera JPEGs, 4:2:0 and
// 4:4:4, some with an EXIF orientation) decodes to Pillow 9.4's pixels and preprocesses to
// the CLIP input and the gray TD image Pillow makes, byte for byte (tools/fixtures/make_dreambench_goldens.py).
// Decoding needs libjpeg-turbo; a build without it checks nothing here and says so.
func TestDreamBenchLikePillow(t *testing.T) {
	if !turbojpeg.Available {
		t.Skip("built without libjpeg-turbo: JPEG decoding is Go's, within a few levels of Pillow, not identical")
	}
	b, err := os.ReadFile("testdata/dreambench_pillow.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Photos []struct {
			File          string
			Size          [2]int
			DecodedSHA256 string `json:"decoded_sha256"`
			CLIP224SHA256 string `json:"clip224_sha256"`
			Gray128SHA256 string `json:"gray128_sha256"`
		}
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	clip := preprocess.Spec{Resize: 224, Mode: preprocess.ShortSideMode, Crop: 224, Rounding: preprocess.HalfEven,
		Interp: preprocess.Bicubic, Rescale: 1.0 / 255, Std: [3]float64{1, 1, 1}}
	for _, g := range golden.Photos {
		img, err := imageio.ReadFile(filepath.Join("../../../shared/data/dreambench", g.File), imageio.Options{})
		if err != nil {
			t.Fatalf("%s (../shared beside the checkout): %v", g.File, err)
		}
		if got := rgbSHA(img); got != g.DecodedSHA256 || img.Rect.Dx() != g.Size[0] {
			t.Errorf("%s: decoded pixels differ from Pillow's", g.File)
			continue
		}
		px, err := clip.Pixels(img)
		if err != nil {
			t.Fatal(err)
		}
		if rgbSHA(px) != g.CLIP224SHA256 {
			t.Errorf("%s: the CLIP input differs from Pillow's", g.File)
		}
		gray, err := preprocess.ResizeGray(preprocess.Luma(img), 128, 128, preprocess.Bicubic)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(gray.Pix); hex.EncodeToString(sum[:]) != g.Gray128SHA256 {
			t.Errorf("%s: the gray 128x128 image differs from Pillow's", g.File)
		}
	}
	if len(golden.Photos) != 30 {
		t.Fatalf("%d photos in the golden file, want DreamBench's 30", len(golden.Photos))
	}
}
