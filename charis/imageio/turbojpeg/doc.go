// Package turbojpeg decodes JPEG through libjpeg-turbo's TurboJPEG API with the settings
// Pillow uses (accurate integer IDCT, fancy chroma upsampling), so decoded pixels are the
// ones Pillow shows, byte for byte. It is the one package with cgo for JPEG; built without
// cgo, or with the build tag noturbojpeg, Available is false and callers fall back to Go's
// decoder (which differs from libjpeg by a level or two, more on subsampled chroma).
package turbojpeg
