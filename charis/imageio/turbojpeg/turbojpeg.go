//go:build cgo && !noturbojpeg

package turbojpeg

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Available reports whether this build decodes through libjpeg-turbo.
const Available = true

// Name identifies the decoder for provenance.
const Name = "libjpeg-turbo (TurboJPEG, accurate DCT, fancy upsampling)"

// ErrUnsupported is a JPEG this path does not convert to RGB as Pillow does (CMYK, YCCK):
// callers fall back to another decoder.
var ErrUnsupported = errors.New("turbojpeg: CMYK/YCCK JPEG")

// Decode decodes a JPEG to 8-bit RGBA (alpha 255), row-major, width·4 bytes a row. It
// allocates what the header says: callers bound the size first (imageio does).
func Decode(data []byte) (pix []byte, width, height int, err error) {
	if len(data) == 0 {
		return nil, 0, 0, errors.New("turbojpeg: empty data")
	}
	h := C.tjInitDecompress()
	if h == nil {
		return nil, 0, 0, errors.New("turbojpeg: cannot create a decompressor")
	}
	defer C.tjDestroy(h)
	// libjpeg-turbo reads the compressed bytes and writes the pixels in Go memory, neither
	// holding a Go pointer nor keeping one past the call (cgo's rules): no copy on either side,
	// and no camera-sized buffer through C's allocator, which keeps freed memory in its arenas.
	buf := unsafe.Pointer(&data[0])
	var w, ht, subsamp, cs C.int
	if C.tjDecompressHeader3(h, (*C.uchar)(buf), C.ulong(len(data)), &w, &ht, &subsamp, &cs) != 0 {
		return nil, 0, 0, fmt.Errorf("turbojpeg: %s", C.GoString(C.tjGetErrorStr2(h)))
	}
	if cs == C.TJCS_CMYK || cs == C.TJCS_YCCK {
		return nil, 0, 0, ErrUnsupported
	}
	width, height = int(w), int(ht)
	if width <= 0 || height <= 0 {
		return nil, 0, 0, fmt.Errorf("turbojpeg: header gives size %dx%d", width, height)
	}
	pix = make([]byte, width*height*4)
	if C.tjDecompress2(h, (*C.uchar)(buf), C.ulong(len(data)), (*C.uchar)(unsafe.Pointer(&pix[0])), w, 0, ht, C.TJPF_RGBA, C.TJFLAG_ACCURATEDCT) != 0 {
		// A warning (a truncated file, say) still yields the image libjpeg gives, as Pillow does.
		if C.tjGetErrorCode(h) != C.TJERR_WARNING {
			return nil, 0, 0, fmt.Errorf("turbojpeg: %s", C.GoString(C.tjGetErrorStr2(h)))
		}
	}
	return pix, width, height, nil
}
