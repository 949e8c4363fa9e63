//go:build !cgo || noblas

// Bodyless declarations (go:linkname) need an assembly file in a package without cgo.
