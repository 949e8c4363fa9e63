package reports

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/charisbench/charisbench/charis"
)

// Write writes every report of runs into dir: table.{txt,md,tex,csv}, subjects.{md,csv},
// bars/tradeoff/distributions.{png,svg} and report.html (with the sections given, after the
// plots). It returns the files written.
func Write(dir string, runs []*charis.Run, sections ...Section) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rows := Rows(runs)
	var files []string
	for _, t := range []struct {
		name  string
		write func(io.Writer, []Row) error
	}{
		{"table.txt", WriteText}, {"table.md", WriteMarkdown}, {"table.tex", WriteLaTeX}, {"table.csv", WriteCSV},
		{"subjects.md", WriteSubjectsMarkdown}, {"subjects.csv", WriteSubjectsCSV},
	} {
		var buf bytes.Buffer
		if err := t.write(&buf, rows); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		p := filepath.Join(dir, t.name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		files = append(files, p)
	}
	plots, err := WritePlots(dir, rows)
	if err != nil {
		return nil, err
	}
	files = append(files, plots...)
	var pngs [][]byte
	for _, p := range plots {
		if strings.HasSuffix(p, ".png") {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			pngs = append(pngs, b)
		}
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, runs, rows, pngs, sections...); err != nil {
		return nil, fmt.Errorf("report.html: %w", err)
	}
	p := filepath.Join(dir, "report.html")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return append(files, p), nil
}
