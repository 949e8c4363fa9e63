// Package reports reads scored run folders (samples.jsonl + summary.json) and writes
// what people read: tables (terminal, Markdown, LaTeX, CSV), a per-subject breakdown,
// plots (gonum/plot, PNG and SVG) and one self-contained HTML report. Scored runs on disk
// are its only input: it never imports ablations or generators. Subpackage gate decides;
// this package only reports (and warns).
package reports
