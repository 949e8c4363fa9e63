// Package charis holds the types and on-disk formats every stage of charisbench shares:
// the model manifest (which ONNX encoders score, with their hashes and preprocessing) and
// the errors that point a user at the file, line and field to fix.
//
// Imports flow one way: cmd/charisbench → ablations, reports → generators, metrics →
// charis. This package imports no other charisbench package except its own
// subpackages (clip, imageio, preprocess).
package charis
