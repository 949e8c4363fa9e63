package imageio

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis/imageio/libwebp"
	"github.com/charisbench/charisbench/charis/imageio/turbojpeg"
)

// Pixel tolerance per fixture, as mean and max absolute difference from Pillow over RGB.
// Lossless formats, JPEG decoded through libjpeg-turbo and WebP through libwebp (the
// default build), must match exactly. Go's own decoders legitimately differ: IDCT rounding (full-resolution chroma,
// "4:4:4"), and chroma upsampling where chroma is subsampled ("4:2:0": they repeat the nearest
// chroma sample, libjpeg and libwebp interpolate). Measured on these fixtures with Go's
// decoder: 4:4:4 JPEG mean 0.19, max 2; 4:2:0 JPEG and WebP mean 5.7 and 5.9. A wrong
// orientation differs by about 90, a wrong YUV matrix by over 10.
var tolerances = map[string]struct {
	mean float64
	max  int
}{
	"444": {mean: 1, max: 8},
	"420": {mean: 8, max: 40},
	// Lossy WebP of hard colour edges without libwebp: measured mean 7.3, max 74
	// (lossy_sharp), 3.9 and 65 (lossy_alpha).
	"edges": {mean: 8, max: 80},
}

func toleranceClass(name string) string {
	switch {
	case strings.HasSuffix(name, ".jpg") && turbojpeg.Available && !strings.Contains(name, "cmyk"):
		return "exact" // CMYK JPEGs still take Go's decoder (turbojpeg.ErrUnsupported)
	case strings.HasSuffix(name, ".webp") && libwebp.Available:
		return "exact"
	case strings.HasSuffix(name, "lossy_sharp.webp") || strings.HasSuffix(name, "lossy_alpha.webp"):
		return "edges"
	case strings.HasSuffix(name, "yuv420.jpg") || strings.Contains(name, "lossy"):
		return "420"
	case strings.HasSuffix(name, ".jpg"):
		return "444"
	}
	return "exact"
}

func TestDecodeMatchesPillow(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".want.png") || strings.Contains(in, "unsupported_") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			got, err := ReadFile(in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := readWant(t, in+".want.png")
			if got.Bounds() != want.Bounds() {
				t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
			}
			mean, max := diff(got, want)
			if tol, lossy := tolerances[toleranceClass(in)]; lossy {
				t.Logf("mean |d| %.2f, max |d| %d", mean, max)
				if mean > tol.mean || max > tol.max {
					t.Fatalf("lossy decode differs from Pillow: mean |d| %.2f (tol %.1f), max |d| %d (tol %d)", mean, tol.mean, max, tol.max)
				}
				return
			}
			if max != 0 {
				t.Fatalf("differs from Pillow: mean |d| %.3f, max |d| %d (want exact)", mean, max)
			}
		})
	}
	if n < 20 {
		t.Fatalf("found %d fixtures; run tools/fixtures/make_image_fixtures.py", n)
	}
}

func readWant(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return toOpaqueRGBA(img)
}

// diff returns the mean and max absolute difference over the RGB channels.
func diff(a, b *image.RGBA) (float64, int) {
	sum, max, n := 0, 0, 0
	for i := range a.Pix {
		if i%4 == 3 {
			continue
		}
		d := int(a.Pix[i]) - int(b.Pix[i])
		if d < 0 {
			d = -d
		}
		sum += d
		max = maxInt(max, d)
		n++
	}
	return float64(sum) / float64(n), max
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func TestErrors(t *testing.T) {
	big := encodePNG(t, image.NewGray(image.Rect(0, 0, 200, 100)))
	valid := encodePNG(t, image.NewGray(image.Rect(0, 0, 8, 8)))
	cases := []struct {
		name string
		data []byte
		opt  Options
		kind error
	}{
		{"empty", nil, Options{}, ErrFormat},
		{"text", []byte("this is not an image"), Options{}, ErrFormat},
		{"truncated", valid[:len(valid)/2], Options{}, ErrCorrupt},
		{"over pixel limit", big, Options{MaxPixels: 200*100 - 1}, ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.data, "sample/"+c.name+".png", c.opt)
			var ie *Error
			if !errors.As(err, &ie) || !errors.Is(err, c.kind) {
				t.Fatalf("err = %v, want an *Error of kind %v", err, c.kind)
			}
			if !strings.Contains(err.Error(), "sample/"+c.name+".png") {
				t.Fatalf("error %q does not name the path", err)
			}
		})
	}
	webp, err := os.ReadFile("testdata/lossy_sharp.webp")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{len(webp) / 2, len(webp) - 1, 30} { // the image data cut, then the header
		if _, err := Decode(webp[:n], "cut.webp", Options{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "cut.webp") {
			t.Errorf("WebP cut to %d of %d bytes: err = %v, want ErrCorrupt naming the file", n, len(webp), err)
		}
	}
	if _, err := ReadFile("testdata/unsupported_cmyk.tiff", Options{}); !errors.Is(err, ErrFormat) {
		t.Fatalf("CMYK TIFF: err = %v, want ErrFormat", err)
	}
	if _, err := Decode(big, "ok.png", Options{MaxPixels: 200 * 100}); err != nil {
		t.Fatalf("image exactly at the limit rejected: %v", err)
	}
	_, err = ReadFile("testdata/does-not-exist.png", Options{})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "does-not-exist.png") {
		t.Fatalf("missing file: err = %v", err)
	}
}

func TestAlphaOverWhite(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	src.SetNRGBA(0, 0, color.NRGBA{R: 200, G: 0, B: 10, A: 0})    // fully transparent -> white
	src.SetNRGBA(1, 0, color.NRGBA{R: 200, G: 0, B: 10, A: 255})  // opaque -> itself
	src.SetNRGBA(2, 0, color.NRGBA{R: 100, G: 0, B: 255, A: 128}) // half: round((c*128 + 255*127)/255)
	got, err := Decode(encodePNG(t, src), "alpha.png", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{255, 255, 255, 255, 200, 0, 10, 255, 177, 127, 255, 255}
	if !bytes.Equal(got.Pix, want) {
		t.Fatalf("pixels %v, want %v", got.Pix, want)
	}
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzDecode: no input panics, and a nil error always comes with a valid opaque image.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil && !strings.HasSuffix(s, ".want.png") {
			f.Add(data)
		}
	}
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(data, "fuzz", Options{MaxPixels: 1 << 20})
		if err != nil {
			var ie *Error
			if !errors.As(err, &ie) {
				t.Fatalf("error of type %T, want *Error", err)
			}
			return
		}
		b := img.Bounds()
		if b.Min != (image.Point{}) || b.Dx()*b.Dy() > 1<<20 || len(img.Pix) != 4*b.Dx()*b.Dy() {
			t.Fatalf("bad image: bounds %v, %d bytes", b, len(img.Pix))
		}
	})
}
