package preprocess

import (
	"fmt"
	"image"
	"math"
)

// CropRounding is how a center crop places its window when the margin is odd.
type CropRounding string

const (
	// Floor puts the window at floor((H − crop) / 2): Hugging Face image processors.
	Floor CropRounding = "floor"
	// HalfEven puts it at round-half-even((H − crop) / 2): torchvision's CenterCrop, as
	// used by openai/CLIP.
	HalfEven CropRounding = "half_even"
)

// ResizeMode is how the resize target is derived from the input size.
type ResizeMode string

const (
	// ShortSideMode scales the short side to Resize and keeps the aspect ratio (CLIP, DINO).
	ShortSideMode ResizeMode = "short_side"
	// SquareMode scales to Resize×Resize, ignoring the aspect ratio (segmenters).
	SquareMode ResizeMode = "square"
)

// Spec is an encoder's image preprocessing.
type Spec struct {
	Resize   int          // target size, per Mode
	Mode     ResizeMode   // short_side (default when empty) or square
	Crop     int          // square center crop; 0 = no crop
	Rounding CropRounding // crop window placement
	Interp   Interp       // resampling filter
	Rescale  float64      // multiplies uint8 values before normalising (1/255 usually)
	Mean     [3]float64   // per-channel mean, RGB
	Std      [3]float64   // per-channel standard deviation, RGB
}

// SpecError is an invalid setting; Field is its name in a model manifest's preprocess
// section (resize, resize_mode, crop, crop_rounding, interpolation, rescale, std).
type SpecError struct {
	Field string
	Msg   string
}

func (e *SpecError) Error() string { return e.Field + ": " + e.Msg }

func specErr(field, format string, args ...any) error {
	return &SpecError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// MaxResize bounds the resize step: past every published encoder's input (CLIP, DINOv2,
// SigLIP: 224–518), and a hostile manifest cannot ask for gigapixel tensors.
const MaxResize = 4096

// Validate reports the first setting that cannot work, as a *SpecError.
func (s Spec) Validate() error {
	switch {
	case s.Resize <= 0 || s.Resize > MaxResize:
		return specErr("resize", "must be in [1, %d], got %d", MaxResize, s.Resize)
	case s.Mode != "" && s.Mode != ShortSideMode && s.Mode != SquareMode:
		return specErr("resize_mode", "unknown mode %q (want short_side or square)", s.Mode)
	case s.Crop < 0:
		return specErr("crop", "must be 0 (none) or positive, got %d", s.Crop)
	case s.Crop > s.Resize:
		return specErr("crop", "%d is larger than the resized size %d", s.Crop, s.Resize)
	case s.Rounding != Floor && s.Rounding != HalfEven:
		return specErr("crop_rounding", "unknown rounding %q (want floor or half_even)", s.Rounding)
	case filters[s.Interp].weight == nil:
		return specErr("interpolation", "unknown filter %q (want bicubic or bilinear)", s.Interp)
	case !(s.Rescale > 0) || math.IsInf(s.Rescale, 0):
		return specErr("rescale", "must be a positive number, got %v", s.Rescale)
	}
	for c, m := range s.Mean {
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return specErr("mean", "value %d must be a finite number, got %v", c, m)
		}
	}
	for c, sd := range s.Std {
		if !(sd > 0) || math.IsInf(sd, 0) {
			return specErr("std", "value %d must be a positive number, got %v", c, sd)
		}
	}
	return nil
}

// ID names the preprocessing in caches and provenance: two specs with equal IDs produce
// identical tensors from identical images.
func (s Spec) ID() string {
	return fmt.Sprintf("resize=%d,mode=%s,crop=%d,rounding=%s,interp=%s,rescale=%g,mean=%g,std=%g",
		s.Resize, s.mode(), s.Crop, s.Rounding, s.Interp, s.Rescale, s.Mean, s.Std)
}

func (s Spec) mode() ResizeMode {
	if s.Mode == "" {
		return ShortSideMode
	}
	return s.Mode
}

// resized is the size the resize step produces for a w×h input.
func (s Spec) resized(w, h int) (int, int) {
	if s.mode() == SquareMode {
		return s.Resize, s.Resize
	}
	return ShortSide(w, h, s.Resize)
}

// OutputSize is the size of the image Pixels returns for a w×h input.
func (s Spec) OutputSize(w, h int) (int, int) {
	if s.Crop > 0 {
		return s.Crop, s.Crop
	}
	return s.resized(w, h)
}

// ShortSide is the size HF's get_resize_output_image_size(default_to_square=False) and
// torchvision's Resize(int) give a w×h image: the short side becomes n, the long side
// int(n·long/short), truncated.
func ShortSide(w, h, n int) (int, int) {
	if w <= h {
		return n, int(float64(n*h) / float64(w))
	}
	return int(float64(n*w) / float64(h)), n
}

// cropOffset halves the margin: floor for HF, round-half-even for torchvision.
func cropOffset(margin int, rounding CropRounding) int {
	if rounding == HalfEven {
		return int(math.RoundToEven(float64(margin) / 2))
	}
	return margin / 2
}

// Pixels returns the uint8 image the encoder sees, before rescaling and normalisation.
func (s Spec) Pixels(src *image.RGBA) (*image.RGBA, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	w, h := s.resized(src.Rect.Dx(), src.Rect.Dy())
	win := image.Rect(0, 0, w, h)
	if s.Crop > 0 { // only the pixels the crop keeps are resampled
		if s.Crop > w || s.Crop > h {
			return nil, fmt.Errorf("center crop %d does not fit a %dx%d image", s.Crop, w, h)
		}
		win = image.Rect(0, 0, s.Crop, s.Crop).Add(image.Pt(cropOffset(w-s.Crop, s.Rounding), cropOffset(h-s.Crop, s.Rounding)))
	}
	out, err := resize(plane{src.Pix, src.Stride, src.Rect, 4}, w, h, s.Interp, win)
	if err != nil {
		return nil, err
	}
	return &image.RGBA{Pix: out.pix, Stride: out.stride, Rect: out.rect}, nil
}

// Tensor writes the preprocessed pixels of src into dst as float32 CHW
// ([3, H, W], channel-major), each value (x·Rescale − Mean[c]) / Std[c]. dst must hold
// exactly 3·H·W values for the output size.
func (s Spec) Tensor(src *image.RGBA, dst []float32) error {
	img, err := s.Pixels(src)
	if err != nil {
		return err
	}
	return s.Normalize(img, dst)
}

// Normalize writes already preprocessed pixels (what Pixels returns) into dst as float32
// CHW values (x·Rescale − Mean[c]) / Std[c]; dst must hold 3·H·W values.
func (s Spec) Normalize(img *image.RGBA, dst []float32) error {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if len(dst) != 3*w*h {
		return fmt.Errorf("tensor buffer holds %d values, want 3x%dx%d = %d", len(dst), h, w, 3*w*h)
	}
	var lut [3][256]float32 // exact per-channel value for every byte
	for c := range 3 {
		for v := range 256 {
			lut[c][v] = float32((float64(v)*s.Rescale - s.Mean[c]) / s.Std[c])
		}
	}
	plane := w * h
	for y := 0; y < h; y++ {
		row := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):]
		for x := 0; x < w; x++ {
			i := y*w + x
			dst[i] = lut[0][row[4*x]]
			dst[plane+i] = lut[1][row[4*x+1]]
			dst[2*plane+i] = lut[2][row[4*x+2]]
		}
	}
	return nil
}
