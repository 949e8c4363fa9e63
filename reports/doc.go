// Package reports reads scored run folders (samples.jsonl + summary.json) and writes
// tables, plots and the regression gate's verdict. Scored runs on disk are its only input:
// it never imports ablations or generators.
package reports
