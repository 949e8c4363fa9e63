package reports

import (
	"strings"
)

// Section is a part the caller adds to report.html after the plots, under its title: a
// table (the paper's tables, the evidence), an image (a contact sheet), or both.
type Section struct {
	Title string
	Table *Table
	Note  string // below the table
	PNG   []byte
}

// Table is a caller's table: its header, its rows, and which columns hold numbers (right
// aligned).
type Table struct {
	Head    []string
	Numeric []bool
	Rows    [][]string
}

// Markdown is the section as Markdown: a level-3 heading, the table, then the note.
func (s Section) Markdown() string {
	var b strings.Builder
	b.WriteString("### " + s.Title + "\n\n")
	if t := s.Table; t != nil {
		row := func(cells []string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }
		row(t.Head)
		sep := make([]string, len(t.Head))
		for i := range sep {
			sep[i] = "---"
			if i < len(t.Numeric) && t.Numeric[i] {
				sep[i] = "---:"
			}
		}
		row(sep)
		for _, r := range t.Rows {
			row(r)
		}
	}
	if s.Note != "" {
		b.WriteString("\n" + s.Note + "\n")
	}
	return b.String()
}
