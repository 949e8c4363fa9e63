// Package imageio decodes the image files charisbench reads into 8-bit sRGB pixels.
//
// It accepts PNG, JPEG, WebP, GIF (first frame), BMP and TIFF. It promises: every decoded
// image is an opaque *image.RGBA whose bounds start at (0, 0); EXIF orientation (JPEG,
// TIFF, PNG eXIf, WebP EXIF) is applied; transparency is composited on white as
// round((c·a + 255·(255 − a)) / 255); gray, palette, CMYK, YCbCr and 16-bit images are
// converted to 8-bit sRGB (16-bit samples keep their high byte). The pixel count is checked
// from the header before any pixel is decoded. Every failure is an *Error naming the path,
// and no input makes Decode panic.
package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/charisbench/charisbench/charis/readfile"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io/fs"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	_ "golang.org/x/image/webp" // registers WebP

	"github.com/charisbench/charisbench/charis/imageio/libwebp"
	"github.com/charisbench/charisbench/charis/imageio/turbojpeg"
)

// DefaultMaxPixels is Pillow's decompression-bomb threshold (Image.MAX_IMAGE_PIXELS).
const DefaultMaxPixels = 89_478_485

// Failure kinds, matched with errors.Is on an *Error.
var (
	ErrNotFound = errors.New("file not found")
	ErrFormat   = errors.New("unsupported or unrecognised image format")
	ErrTooLarge = errors.New("image exceeds the pixel limit")
	ErrCorrupt  = errors.New("corrupt image data")
)

// Error is a decoding failure of one file.
type Error struct {
	Path string // the file, as given
	Kind error  // one of ErrNotFound, ErrFormat, ErrTooLarge, ErrCorrupt
	Err  error  // the underlying cause, if any
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("image %s: %v", e.Path, e.Kind)
	}
	return fmt.Sprintf("image %s: %v: %v", e.Path, e.Kind, e.Err)
}

// Unwrap lets errors.Is match both the kind and the cause.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Options bound what Decode accepts.
type Options struct {
	// MaxPixels is the largest width·height accepted; 0 means DefaultMaxPixels.
	MaxPixels int
}

// ReadFile reads and decodes the image at path.
func ReadFile(path string, opt Options) (*image.RGBA, error) {
	data, err := readfile.Read("image", path, readfile.MaxImageBytes)
	if err != nil {
		kind := ErrCorrupt
		if errors.Is(err, fs.ErrNotExist) {
			kind = ErrNotFound
		}
		return nil, &Error{Path: path, Kind: kind, Err: err}
	}
	return Decode(data, path, opt)
}

// Decode decodes an encoded image; path only names it in errors.
func Decode(data []byte, path string, opt Options) (img *image.RGBA, err error) {
	defer func() {
		if r := recover(); r != nil { // a decoder bug must not take the run down
			img, err = nil, &Error{Path: path, Kind: ErrCorrupt, Err: fmt.Errorf("decoder panic: %v", r)}
		}
	}()
	maxPixels := opt.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, &Error{Path: path, Kind: ErrFormat}
		}
		return nil, &Error{Path: path, Kind: decodeErrorKind(err), Err: err}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, &Error{Path: path, Kind: ErrCorrupt, Err: fmt.Errorf("%s header gives size %dx%d", format, cfg.Width, cfg.Height)}
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, &Error{Path: path, Kind: ErrTooLarge,
			Err: fmt.Errorf("%dx%d = %d pixels > %d", cfg.Width, cfg.Height, int64(cfg.Width)*int64(cfg.Height), maxPixels)}
	}
	if format == "jpeg" && turbojpeg.Available {
		pix, w, h, err := turbojpeg.Decode(data)
		switch {
		case err == nil:
			rgb := &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
			return orient(rgb, exifOrientation(format, data)), nil
		case !errors.Is(err, turbojpeg.ErrUnsupported):
			return nil, &Error{Path: path, Kind: ErrCorrupt, Err: err}
		} // CMYK and YCCK: Go's decoder below
	}
	if format == "webp" && libwebp.Available {
		pix, w, h, err := libwebp.Decode(data)
		switch {
		case err == nil:
			return orient(overWhiteInPlace(pix, w, h), exifOrientation(format, data)), nil
		case !errors.Is(err, libwebp.ErrUnsupported):
			return nil, &Error{Path: path, Kind: ErrCorrupt, Err: err}
		} // animations: Go's decoder below (which refuses them too)
	}
	var src image.Image
	if format == "gif" {
		src, err = firstGIFFrame(data, cfg)
	} else {
		src, _, err = image.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, &Error{Path: path, Kind: decodeErrorKind(err), Err: err}
	}
	var rgb *image.RGBA
	if format == "webp" {
		rgb = webpToRGBA(src)
	} else {
		rgb = toOpaqueRGBA(src)
	}
	return orient(rgb, exifOrientation(format, data)), nil
}

// decodeErrorKind tells a feature the decoders do not implement (CMYK TIFF, say) from
// damaged data.
func decodeErrorKind(err error) error {
	var pngU png.UnsupportedError
	var jpegU jpeg.UnsupportedError
	var tiffU tiff.UnsupportedError
	if errors.As(err, &pngU) || errors.As(err, &jpegU) || errors.As(err, &tiffU) || errors.Is(err, bmp.ErrUnsupported) {
		return ErrFormat
	}
	return ErrCorrupt
}

// firstGIFFrame draws the first frame on a transparent canvas of the logical screen size,
// as Pillow shows a GIF's first frame.
func firstGIFFrame(data []byte, cfg image.Config) (image.Image, error) {
	frame, err := gif.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if frame.Bounds() == image.Rect(0, 0, cfg.Width, cfg.Height) {
		return frame, nil
	}
	canvas := image.NewNRGBA(image.Rect(0, 0, cfg.Width, cfg.Height))
	draw.Draw(canvas, frame.Bounds(), frame, frame.Bounds().Min, draw.Src)
	return canvas, nil
}

// overWhiteInPlace composites non-premultiplied RGBA pixels on white where alpha is
// below 255, as toOpaqueRGBA does, reusing the buffer.
func overWhiteInPlace(pix []byte, w, h int) *image.RGBA {
	for i := 0; i < len(pix); i += 4 {
		if a := uint32(pix[i+3]); a != 0xff {
			pix[i+0], pix[i+1], pix[i+2], pix[i+3] = overWhite8(uint32(pix[i+0]), a), overWhite8(uint32(pix[i+1]), a), overWhite8(uint32(pix[i+2]), a), 0xff
		}
	}
	return &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
}

// toOpaqueRGBA converts any decoded image to 8-bit RGB with alpha composited on white.
func toOpaqueRGBA(src image.Image) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch s := src.(type) {
	case *image.YCbCr, *image.Gray, *image.CMYK: // opaque: the standard library converts
		draw.Draw(dst, dst.Bounds(), s, b.Min, draw.Src)
		return dst
	case *image.NRGBA:
		for y := 0; y < b.Dy(); y++ {
			sp := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			dp := dst.Pix[dst.PixOffset(0, y):]
			for x := 0; x < b.Dx(); x++ {
				i := 4 * x
				a := uint32(sp[i+3])
				dp[i+0] = overWhite8(uint32(sp[i+0]), a)
				dp[i+1] = overWhite8(uint32(sp[i+1]), a)
				dp[i+2] = overWhite8(uint32(sp[i+2]), a)
				dp[i+3] = 0xff
			}
		}
		return dst
	case *image.RGBA: // premultiplied: c·a/255 is stored, so the composite is c + 255 − a
		for y := 0; y < b.Dy(); y++ {
			sp := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			dp := dst.Pix[dst.PixOffset(0, y):]
			for x := 0; x < b.Dx(); x++ {
				i := 4 * x
				white := 0xff - uint16(sp[i+3])
				dp[i+0] = uint8(min(0xff, uint16(sp[i+0])+white)) // min guards invalid c > a
				dp[i+1] = uint8(min(0xff, uint16(sp[i+1])+white))
				dp[i+2] = uint8(min(0xff, uint16(sp[i+2])+white))
				dp[i+3] = 0xff
			}
		}
		return dst
	}
	// Everything else (palette, 16-bit, NYCbCrA, ...) goes through non-premultiplied
	// 16-bit colour, composited at 16 bits and reduced to the high byte.
	for y := 0; y < b.Dy(); y++ {
		dp := dst.Pix[dst.PixOffset(0, y):]
		for x := 0; x < b.Dx(); x++ {
			c := color.NRGBA64Model.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			a := uint32(c.A)
			i := 4 * x
			dp[i+0] = uint8(overWhite16(uint32(c.R), a) >> 8)
			dp[i+1] = uint8(overWhite16(uint32(c.G), a) >> 8)
			dp[i+2] = uint8(overWhite16(uint32(c.B), a) >> 8)
			dp[i+3] = 0xff
		}
	}
	return dst
}

// overWhite8 is round((c·a + 255·(255 − a)) / 255) for 8-bit c and a.
func overWhite8(c, a uint32) uint8 {
	return uint8((c*a + 255*(255-a) + 127) / 255)
}

// overWhite16 is round((c·a + 65535·(65535 − a)) / 65535) for 16-bit c and a.
func overWhite16(c, a uint32) uint32 {
	return uint32((uint64(c)*uint64(a) + 0xffff*uint64(0xffff-a) + 0x7fff) / 0xffff)
}
