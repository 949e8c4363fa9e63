//go:build !cgo || noturbojpeg

package turbojpeg

import "errors"

// Available reports whether this build decodes through libjpeg-turbo.
const Available = false

// Name identifies the decoder for provenance.
const Name = "Go image/jpeg (built without libjpeg-turbo: within a few levels of Pillow)"

// ErrUnsupported is returned by Decode in this build: callers use Go's decoder.
var ErrUnsupported = errors.New("turbojpeg: not in this build")

// Decode always fails with ErrUnsupported in a build without libjpeg-turbo.
func Decode([]byte) ([]byte, int, int, error) { return nil, 0, 0, ErrUnsupported }
