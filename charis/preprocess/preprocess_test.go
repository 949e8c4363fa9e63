package preprocess

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/charisbench/charisbench/charis/imageio"
)

type goldenCase struct {
	Kind     string       `json:"kind"`
	Src      string       `json:"src"`
	W        int          `json:"w"`
	H        int          `json:"h"`
	Resize   int          `json:"resize"`
	Crop     int          `json:"crop"`
	Rounding CropRounding `json:"rounding"`
	Interp   Interp       `json:"interp"`
	Size     [2]int       `json:"size"`
	SHA256   string       `json:"sha256"`
	Want     string       `json:"want"`
}

// rgbBytes is the image as Pillow's tobytes() gives an RGB image: row-major RGB triples.
func rgbBytes(img *image.RGBA) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := make([]byte, 0, 3*w*h)
	for y := 0; y < h; y++ {
		row := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):]
		for x := 0; x < w; x++ {
			out = append(out, row[4*x], row[4*x+1], row[4*x+2])
		}
	}
	return out
}

// TestPillowGolden: every case must be byte-identical to Pillow's output.
func TestPillowGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/cases.json")
	if err != nil {
		t.Fatalf("%v (run tools/fixtures/make_resize_goldens.py)", err)
	}
	var cases []goldenCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("only %d golden cases", len(cases))
	}
	srcs := map[string]*image.RGBA{}
	for _, c := range cases {
		src := srcs[c.Src]
		if src == nil {
			if src, err = imageio.ReadFile(filepath.Join("testdata", c.Src), imageio.Options{}); err != nil {
				t.Fatal(err)
			}
			srcs[c.Src] = src
		}
		var got *image.RGBA
		switch c.Kind {
		case "resize":
			got, err = Resize(src, c.W, c.H, c.Interp)
		case "pipeline":
			got, err = Spec{Resize: c.Resize, Crop: c.Crop, Rounding: c.Rounding, Interp: c.Interp,
				Rescale: 1. / 255, Std: [3]float64{1, 1, 1}}.Pixels(src)
		default:
			t.Fatalf("unknown case kind %q", c.Kind)
		}
		name := c.Want
		if name == "" {
			name = c.Src + " " + c.Kind
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if s := [2]int{got.Rect.Dx(), got.Rect.Dy()}; s != c.Size {
			t.Errorf("%+v: size %v, want %v", c, s, c.Size)
			continue
		}
		sum := sha256.Sum256(rgbBytes(got))
		if hex.EncodeToString(sum[:]) == c.SHA256 {
			continue
		}
		if c.Want == "" {
			t.Errorf("%+v: output differs from Pillow's (sha256)", c)
			continue
		}
		want, err := imageio.ReadFile(filepath.Join("testdata", c.Want), imageio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		a, b, n := rgbBytes(got), rgbBytes(want), 0
		for i := range a {
			if a[i] != b[i] {
				n++
			}
		}
		t.Errorf("%s: %d of %d bytes differ from Pillow's", c.Want, n, len(a))
	}
}

func TestShortSide(t *testing.T) {
	for _, c := range []struct{ w, h, n, ww, wh int }{
		{640, 480, 224, 298, 224},
		{480, 640, 224, 224, 298},
		{224, 224, 224, 224, 224},
		{5, 400, 64, 64, 5120},
		{333, 9, 64, 2368, 64},
	} {
		if w, h := ShortSide(c.w, c.h, c.n); w != c.ww || h != c.wh {
			t.Errorf("ShortSide(%d, %d, %d) = %dx%d, want %dx%d", c.w, c.h, c.n, w, h, c.ww, c.wh)
		}
	}
}

func TestSquareMode(t *testing.T) {
	s := Spec{Resize: 8, Mode: SquareMode, Rounding: Floor, Interp: Bilinear, Rescale: 1, Std: [3]float64{1, 1, 1}}
	img, err := s.Pixels(image.NewRGBA(image.Rect(0, 0, 30, 10)))
	if err != nil || img.Rect.Dx() != 8 || img.Rect.Dy() != 8 {
		t.Fatalf("square resize of 30x10: %v (err %v), want 8x8", img.Rect, err)
	}
	if w, h := s.OutputSize(30, 10); w != 8 || h != 8 {
		t.Fatalf("OutputSize = %dx%d", w, h)
	}
}

func TestCropRounding(t *testing.T) {
	// A margin of 3 splits 1|2 under floor and 2|1 under round-half-even (1.5 -> 2).
	src := image.NewRGBA(image.Rect(0, 0, 7, 7))
	for _, c := range []struct {
		r    CropRounding
		want image.Point
	}{{Floor, image.Pt(1, 1)}, {HalfEven, image.Pt(2, 2)}} {
		got, err := CenterCrop(src, 4, c.r)
		if err != nil || got.Rect.Min != c.want {
			t.Errorf("%s: crop origin %v (err %v), want %v", c.r, got.Rect.Min, err, c.want)
		}
	}
	if _, err := CenterCrop(src, 8, Floor); err == nil {
		t.Error("a crop larger than the image was accepted")
	}
}

func TestTensorNormalizes(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for i := range src.Pix {
		src.Pix[i] = []uint8{255, 0, 51, 255}[i%4]
	}
	s := Spec{Resize: 2, Rounding: Floor, Interp: Bicubic, Rescale: 1. / 255,
		Mean: [3]float64{0.5, 0.25, 0}, Std: [3]float64{0.5, 0.25, 0.1}}
	dst := make([]float32, 12)
	if err := s.Tensor(src, dst); err != nil {
		t.Fatal(err)
	}
	want := []float32{1, -1, 2} // (1-0.5)/0.5, (0-0.25)/0.25, (0.2-0)/0.1
	for c := range 3 {
		for i := range 4 {
			if v := dst[4*c+i]; math.Abs(float64(v-want[c])) > 1e-6 {
				t.Fatalf("channel %d value %v, want %v", c, v, want[c])
			}
		}
	}
	if err := s.Tensor(src, make([]float32, 11)); err == nil {
		t.Fatal("a wrong-sized buffer was accepted")
	}
}

func TestValidate(t *testing.T) {
	good := Spec{Resize: 256, Crop: 224, Rounding: Floor, Interp: Bicubic, Rescale: 1. / 255, Std: [3]float64{1, 1, 1}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Spec){
		"zero resize":  func(s *Spec) { s.Resize = 0 },
		"crop too big": func(s *Spec) { s.Crop = 300 },
		"bad rounding": func(s *Spec) { s.Rounding = "ceil" },
		"bad interp":   func(s *Spec) { s.Interp = "lanczos" },
		"zero std":     func(s *Spec) { s.Std[1] = 0 },
		"NaN rescale":  func(s *Spec) { s.Rescale = math.NaN() },
	} {
		s := good
		mutate(&s)
		if s.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
