// Package gomlxblas makes GoMLX's pure-Go backend ("simplego", gomlx v0.26.0) fast enough to
// train flowdit on a CPU. It replaces the float32 executors of the ops a transformer's train
// step spends its time in:
//
//   - DotGeneral: one single-threaded sgemm per batch item (OpenBLAS through cgo; gonum's
//     pure-Go Sgemm in a build without it, tag noblas), items spread over simplego's own
//     worker pool, so BLAS never starts threads of its own;
//   - Add, Sub, Mul, Div, Max, Min with implicit broadcasting, Transpose, BroadcastInDim,
//     ReduceSum and ReduceMax: one strided walk over collapsed axes instead of an index
//     iterator per element;
//   - Exp and Erf: float32 kernels (Cody–Waite range reduction; erf by Abramowitz–Stegun
//     7.1.26 and the series near 0) within a few float32 ulps of the float64 originals.
//
// Every other dtype and op keeps simplego's executor, and so does any DotGeneral whose
// axes do not map onto sgemm's transpose flags.
//
// simplego's executor table is unexported; Install reaches it with //go:linkname and
// checks, with reflect, that the structs it reads have the layout this package was written
// for. When they do not (another gomlx version), Install changes nothing and says why: the
// backend stays correct, only slower. docs/flowdit.md argues this against patching gomlx.
package gomlxblas
