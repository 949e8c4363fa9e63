// Package metrics computes what CHARIS is made of from images, prompts and masks: the
// encoders (subpackage encoder, the one importer of ONNX Runtime) and, as the scoring
// stage grows, colour and image science and the per-sample scorer. It depends on charis
// for shared types and formats, never on generators, ablations or reports.
package metrics
