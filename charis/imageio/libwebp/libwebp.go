//go:build cgo && !nolibwebp

package libwebp

/*
#cgo LDFLAGS: -lwebp
#include <webp/decode.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Available reports whether this build decodes through libwebp.
const Available = true

// Name identifies the decoder for provenance.
const Name = "libwebp (fancy upsampling)"

// ErrUnsupported is a WebP this path does not decode (an animation): callers fall back
// to another decoder.
var ErrUnsupported = errors.New("libwebp: animated WebP")

// Decode decodes a still WebP to 8-bit non-premultiplied RGBA, row-major, width·4 bytes a
// row; alpha is 255 where the image has none. It allocates what the header says: callers
// bound the size first (imageio does).
func Decode(data []byte) (pix []byte, width, height int, err error) {
	if len(data) == 0 {
		return nil, 0, 0, errors.New("libwebp: empty data")
	}
	// libwebp reads the compressed bytes and writes the pixels in Go memory, keeping no
	// pointer past the call (cgo's rules): no copy on either side.
	buf := (*C.uint8_t)(unsafe.Pointer(&data[0]))
	var f C.WebPBitstreamFeatures
	if st := C.WebPGetFeatures(buf, C.size_t(len(data)), &f); st != C.VP8_STATUS_OK {
		return nil, 0, 0, fmt.Errorf("libwebp: reading the header: %s", status(st))
	}
	if f.has_animation != 0 {
		return nil, 0, 0, ErrUnsupported
	}
	width, height = int(f.width), int(f.height)
	if width <= 0 || height <= 0 {
		return nil, 0, 0, fmt.Errorf("libwebp: header gives size %dx%d", width, height)
	}
	pix = make([]byte, width*height*4)
	if C.WebPDecodeRGBAInto(buf, C.size_t(len(data)), (*C.uint8_t)(unsafe.Pointer(&pix[0])), C.size_t(len(pix)), C.int(4*width)) == nil {
		return nil, 0, 0, errors.New("libwebp: the image data is damaged or truncated")
	}
	return pix, width, height, nil
}

// status names libwebp's VP8StatusCode.
func status(st C.VP8StatusCode) string {
	switch st {
	case C.VP8_STATUS_OUT_OF_MEMORY:
		return "out of memory"
	case C.VP8_STATUS_INVALID_PARAM:
		return "invalid parameter"
	case C.VP8_STATUS_BITSTREAM_ERROR:
		return "bitstream error"
	case C.VP8_STATUS_UNSUPPORTED_FEATURE:
		return "unsupported feature"
	case C.VP8_STATUS_SUSPENDED:
		return "suspended"
	case C.VP8_STATUS_USER_ABORT:
		return "aborted"
	case C.VP8_STATUS_NOT_ENOUGH_DATA:
		return "not enough data (truncated)"
	}
	return fmt.Sprintf("status %d", int(st))
}
