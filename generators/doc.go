// Package generators produces images for the benchmark: the built-in flowdit model (the
// paper's latent concatenation and masked conditional flow matching, in GoMLX, the one
// importer of GoMLX), external programs, and precomputed folders. It depends on charis
// only; metrics and generators do not import each other.
package generators
