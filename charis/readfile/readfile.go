// Package readfile is the one rule for every file charisbench opens by path: it must be a
// regular file (a device such as /dev/zero or /dev/urandom, a FIFO or a folder is an error
// before any read, never a hang), and files read whole have a size limit by kind. Errors
// name what the file is for and its path. A leaf package, so that every reader, the image
// decoder included, can use it.
package readfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Size limits of the files charisbench reads whole by path, by kind (docs/reliability.md).
// Files streamed instead (sample manifests, work logs, model files) have no size limit but
// must be regular files too.
const (
	MaxConfigBytes = 4 << 20   // YAML: ablations files, metric configs, model manifests
	MaxStateBytes  = 256 << 20 // JSON a run writes and reads back: summary.json, checkpoint.json, keys, retrieval
	MaxKBBytes     = 64 << 20  // a judge knowledge base
	MaxImageBytes  = 256 << 20 // an image or mask (camera JPEGs are a few MB); score's --max-file-mb overrides
)

// Open opens a file to stream it, after checking that it is a regular file: a device
// (/dev/zero, /dev/urandom), a FIFO or a folder would read without end, block for good or
// fail obscurely, so each is an error naming what the file is for (what) and its path.
func Open(what, path string) (*os.File, error) {
	if _, why := Stat(path); why != nil {
		return nil, fmt.Errorf("%s: %s%w", what, path, why)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	return f, nil
}

// Stat stats a file that must be regular; why is nil when it is, else an error that
// reads after the file's name (": file not found", " is not a regular file (a named
// pipe)"). A missing file's is fs.ErrNotExist to errors.Is.
func Stat(path string) (st fs.FileInfo, why error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, notFound{}
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf(": %w", err)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf(" is not a regular file (%s)", fileKind(st.Mode()))
	}
	return st, nil
}

// notFound is a missing file's error, worded for a user.
type notFound struct{}

func (notFound) Error() string        { return ": file not found" }
func (notFound) Is(target error) bool { return target == fs.ErrNotExist }

// Read reads a whole regular file of at most maxBytes (see Open); what names the
// file's purpose in errors ("model manifest", "metric config").
func Read(what, path string, maxBytes int64) ([]byte, error) {
	f, err := Open(what, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1)) // checked on the bytes read: the file may grow
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", what, path, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%s: %s is over the limit of %d bytes for a %s", what, path, maxBytes, what)
	}
	return data, nil
}

// fileKind names a file type that is not a regular file.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// SHA256 hashes a regular file by streaming it (a manifest of any size, a model), as hex.
func SHA256(what, path string) (string, error) {
	f, err := Open(what, path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %s: %v", what, path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
