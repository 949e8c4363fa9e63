// Package libwebp decodes still WebP images through libwebp, the library Pillow links, with
// its default settings (fancy chroma upsampling of lossy images), so decoded pixels are the
// ones Pillow shows, byte for byte. It is the one package with cgo for WebP; built without
// cgo, or with the build tag nolibwebp, Available is false and callers fall back to
// golang.org/x/image/webp (whose lossy images repeat the nearest chroma sample where
// libwebp interpolates: a few levels off on colour edges).
package libwebp
