package preprocess

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/charisbench/charisbench/charis/imageio"
)

// benchImage is a 640×480 photo-like picture (smooth gradients and texture).
func benchImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / 639), uint8(y * 255 / 479), uint8((x*y)>>4 ^ x), 255})
		}
	}
	return img
}

var clipSpec = Spec{Resize: 224, Crop: 224, Rounding: HalfEven, Interp: Bicubic, Rescale: 1.0 / 255,
	Mean: [3]float64{0.48145466, 0.4578275, 0.40821073}, Std: [3]float64{0.26862954, 0.26130258, 0.27577711}}

// BenchmarkDecodePreprocess: decode a 640×480 file and make the CLIP input tensor from it,
// on one goroutine. Reports images/s.
func BenchmarkDecodePreprocess(b *testing.B) {
	for _, format := range []string{"jpeg", "png"} {
		b.Run(format, func(b *testing.B) {
			var buf bytes.Buffer
			if format == "jpeg" {
				jpeg.Encode(&buf, benchImage(), &jpeg.Options{Quality: 90})
			} else {
				png.Encode(&buf, benchImage())
			}
			data := buf.Bytes()
			dst := make([]float32, 3*224*224)
			b.ResetTimer()
			for b.Loop() {
				img, err := imageio.Decode(data, "bench", imageio.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := clipSpec.Tensor(img, dst); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkResize: Pillow-exact bicubic 640×480 -> 298×224 alone.
func BenchmarkResize(b *testing.B) {
	img := benchImage()
	for b.Loop() {
		if _, err := Resize(img, 298, 224, Bicubic); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkResizeCamera: Pillow-exact bicubic of a camera-sized 2048×1536 image to the
// sizes scoring makes (the identity encoder's 341×256, CLIP's 298×224), to 128×128 in RGB,
// and to TD's gray 128×128 ("L" conversion included), one goroutine; and the encoders'
// whole preprocessing (resize, center crop 224), which resamples only what the crop keeps.
// Reports images/s.
func BenchmarkResizeCamera(b *testing.B) {
	src := image.NewRGBA(image.Rect(0, 0, 2048, 1536))
	for i := range src.Pix {
		src.Pix[i] = uint8(i*7 + i>>11)
	}
	for _, size := range [][2]int{{341, 256}, {298, 224}, {128, 128}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			for b.Loop() {
				if _, err := Resize(src, size[0], size[1], Bicubic); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
	for _, resize := range []int{256, 224} {
		spec := Spec{Resize: resize, Crop: 224, Rounding: Floor, Interp: Bicubic, Rescale: 1, Std: [3]float64{1, 1, 1}}
		b.Run(fmt.Sprintf("pixels%d-crop224", resize), func(b *testing.B) {
			for b.Loop() {
				if _, err := spec.Pixels(src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
	b.Run("gray128x128", func(b *testing.B) {
		for b.Loop() {
			if _, err := ResizeGray(Luma(src), 128, 128, Bicubic); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
}
