package ssim

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// goldenTol bounds |Go − scikit-image|: both compute in float64, in different orders.
const goldenTol = 1e-9

func TestMatchesScikitImage(t *testing.T) {
	data, err := os.ReadFile("testdata/goldens.json")
	if err != nil {
		t.Fatalf("%v (run tools/fixtures/make_ssim_goldens.py)", err)
	}
	var cases []struct {
		Name string    `json:"name"`
		W    int       `json:"w"`
		H    int       `json:"h"`
		A    []float64 `json:"a"`
		B    []float64 `json:"b"`
		SSIM float64   `json:"ssim"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 5 {
		t.Fatalf("%d golden cases", len(cases))
	}
	for _, c := range cases {
		got, err := SSIM(Gray{c.W, c.H, c.A}, Gray{c.W, c.H, c.B}, 255)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if math.Abs(got-c.SSIM) > goldenTol {
			t.Errorf("%s: SSIM %.12f, scikit-image %.12f", c.Name, got, c.SSIM)
		}
	}
}

func TestReflect(t *testing.T) {
	for _, c := range []struct{ i, n, want int }{{-1, 5, 0}, {-2, 5, 1}, {5, 5, 4}, {6, 5, 3}, {2, 5, 2}, {-6, 5, 4}} {
		if got := reflect(c.i, c.n); got != c.want {
			t.Errorf("reflect(%d, %d) = %d, want %d", c.i, c.n, got, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	small := Gray{W: 10, H: 12, Pix: make([]float64, 120)}
	if _, err := SSIM(small, small, 255); err == nil {
		t.Error("a 10-pixel-wide image was accepted")
	}
	a := Gray{W: 12, H: 12, Pix: make([]float64, 144)}
	b := Gray{W: 13, H: 12, Pix: make([]float64, 156)}
	if _, err := SSIM(a, b, 255); err == nil {
		t.Error("images of different sizes were accepted")
	}
}
