package preprocess

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"math"
	"math/rand/v2"
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
	for i := range src.Pix {
		src.Pix[i] = uint8(i / 4 % 7 * 10) // each pixel's x·10 in every band
	}
	for _, c := range []struct {
		r    CropRounding
		want int
	}{{Floor, 1}, {HalfEven, 2}} {
		s := Spec{Resize: 7, Crop: 4, Rounding: c.r, Interp: Bicubic, Rescale: 1, Std: [3]float64{1, 1, 1}}
		got, err := s.Pixels(src)
		if err != nil || got.Rect.Dx() != 4 || got.Rect.Dy() != 4 || got.Pix[0] != uint8(10*c.want) {
			t.Errorf("%s: crop %v starting at x %d (err %v), want 4x4 from x %d", c.r, got.Rect, got.Pix[0]/10, err, c.want)
		}
	}
	s := Spec{Resize: 7, Crop: 8, Rounding: Floor, Interp: Bicubic, Rescale: 1, Std: [3]float64{1, 1, 1}}
	if _, err := s.Pixels(src); err == nil {
		t.Error("a crop larger than the image was accepted")
	}
}

// TestWindowIsCropOfResize: resampling only a window gives the same bytes as cropping
// the whole resize, down and up, with one pass or two, RGB and gray.
func TestWindowIsCropOfResize(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ sw, sh, w, h int }{{37, 23, 16, 30}, {50, 50, 50, 20}, {20, 33, 9, 33}, {40, 40, 40, 40}, {64, 48, 21, 16}} {
		for _, bands := range []int{4, 1} {
			src := newPlane(c.sw, c.sh, bands)
			for i := range src.pix {
				src.pix[i] = uint8(r.IntN(256))
			}
			full, err := resize(src, c.w, c.h, Bicubic, image.Rect(0, 0, c.w, c.h))
			if err != nil {
				t.Fatal(err)
			}
			for range 5 {
				x0, y0 := r.IntN(c.w), r.IntN(c.h)
				win := image.Rect(x0, y0, x0+1+r.IntN(c.w-x0), y0+1+r.IntN(c.h-y0))
				got, err := resize(src, c.w, c.h, Bicubic, win)
				if err != nil {
					t.Fatal(err)
				}
				for y := 0; y < win.Dy(); y++ {
					want := full.row(win.Min.Y + y)[win.Min.X*bands : win.Max.X*bands]
					if !bytes.Equal(got.row(y), want) {
						t.Fatalf("%+v, %d bands, window %v: row %d differs from the whole resize's", c, bands, win, y)
					}
				}
			}
		}
	}
	if _, err := resize(newPlane(8, 8, 4), 4, 4, Bicubic, image.Rect(2, 2, 6, 4)); err == nil {
		t.Error("a window outside the resize was accepted")
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
