package world

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
)

// encoders holds the ONNX encoders trained for this world (tools/world/train_encoders.py)
// and their manifest: encoders/models.yaml naming encoders/models/*.onnx.
//
//go:embed encoders
var encoders embed.FS

// EncoderManifest is the name of the encoder manifest WriteEncoders writes.
const EncoderManifest = "models.yaml"

// EncodersID identifies the encoders built into this charisbench: the sha256 of their
// manifest, which names every model's sha256 and calibration. A benchmark built by another
// charisbench may carry other encoders.
func EncodersID() (string, error) {
	data, err := encoders.ReadFile("encoders/" + EncoderManifest)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// WriteEncoders writes the world's encoders to dir: dir/models.yaml and dir/models/*.onnx.
func WriteEncoders(dir string) error {
	return fs.WalkDir(encoders, "encoders", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := encoders.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("encoders", filepath.FromSlash(p))
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}
