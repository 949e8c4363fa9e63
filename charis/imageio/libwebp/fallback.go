//go:build !cgo || nolibwebp

package libwebp

import "errors"

// Available reports whether this build decodes through libwebp.
const Available = false

// Name identifies the decoder for provenance.
const Name = "golang.org/x/image/webp (built without libwebp: lossy images a few levels off Pillow)"

// ErrUnsupported is returned by Decode in this build: callers use Go's decoder.
var ErrUnsupported = errors.New("libwebp: not in this build")

// Decode always fails with ErrUnsupported in a build without libwebp.
func Decode([]byte) ([]byte, int, int, error) { return nil, 0, 0, ErrUnsupported }
