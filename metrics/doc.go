// Package metrics is CHARIS v1 (docs/metric.md, the project's restatement of
// ../shared/spec/charis-v1.md): the five axes and their aggregate, each a small function
// of what it needs — tokens, embeddings, pixels, masks — returning a raw value, a score in
// [0, 1] and diagnostics. Subpackages hold what the axes stand on: encoder (ONNX Runtime or
// GoMLX, the only importer of onnxruntime_go and onnx-gomlx), ssim, kmeans, score (the
// scoring pipeline) and cache (the embedding cache).
//
// Cosines are in [-1, 1]; scores are in [0, 1], higher is better. The package imports
// charis for shared types and formats, never generators, ablations or reports.
package metrics
