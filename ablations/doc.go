// Package ablations runs `charisbench run ablations.yaml`: it expands the grid of variants,
// drives each through train, generate, score and report, keys every artefact by its
// inputs so a rerun resumes, and lays out the paper's tables. It imports generators,
// metrics and reports; nothing imports it but the command.
package ablations
