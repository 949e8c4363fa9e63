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
)

// Available reports whether this build decodes through libjpeg-turbo.
const Available = true

// Name identifies the decoder for provenance.
const Name = "libjpeg-turbo (TurboJPEG, accurate DCT, fancy upsampling)"

// ErrUnsupported is a JPEG this path does not convert to RGB as Pillow does (CMYK, YCCK):
// callers fall back to another decoder.
var ErrUnsupported = errors.New("turbojpeg: CMYK/YCCK JPEG")

// Decode decodes a JPEG to 8-bit RGBA (alpha 255), row-major, width·4 bytes a row.
func Decode(data []byte) (pix []byte, width, height int, err error) {
	if len(data) == 0 {
		return nil, 0, 0, errors.New("turbojpeg: empty data")
	}
	h := C.tjInitDecompress()
	if h == nil {
		return nil, 0, 0, errors.New("turbojpeg: cannot create a decompressor")
	}
	defer C.tjDestroy(h)
	// The compressed bytes are copied to C memory: cgo must not keep a Go pointer past the call.
	buf := C.CBytes(data)
	defer C.free(buf)
	var w, ht, subsamp, cs C.int
	if C.tjDecompressHeader3(h, (*C.uchar)(buf), C.ulong(len(data)), &w, &ht, &subsamp, &cs) != 0 {
		return nil, 0, 0, fmt.Errorf("turbojpeg: %s", C.GoString(C.tjGetErrorStr2(h)))
	}
	if cs == C.TJCS_CMYK || cs == C.TJCS_YCCK {
		return nil, 0, 0, ErrUnsupported
	}
	width, height = int(w), int(ht)
	out := C.malloc(C.size_t(width * height * 4))
	if out == nil {
		return nil, 0, 0, errors.New("turbojpeg: out of memory")
	}
	defer C.free(out)
	if C.tjDecompress2(h, (*C.uchar)(buf), C.ulong(len(data)), (*C.uchar)(out), w, 0, ht, C.TJPF_RGBA, C.TJFLAG_ACCURATEDCT) != 0 {
		// A warning (a truncated file, say) still yields the image libjpeg gives, as Pillow does.
		if C.tjGetErrorCode(h) != C.TJERR_WARNING {
			return nil, 0, 0, fmt.Errorf("turbojpeg: %s", C.GoString(C.tjGetErrorStr2(h)))
		}
	}
	return C.GoBytes(out, C.int(width*height*4)), width, height, nil
}
