package score

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/charisbench/charisbench/charis"
)

func optional(s *charis.Stat) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", s.Mean)
}

// WriteTable prints a summary as a terminal table: one row per variant, CHARIS with its
// interval, the axes and classic metrics as means (their intervals are in summary.json).
func WriteTable(w io.Writer, s *charis.Summary) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignRight))
	t.Header("variant", "n", "fail", "CHARIS [95% CI]", "CHARIS-geo", "IC", "PA", "CF", "VQ", "TD", "DINO", "CLIP-I", "CLIP-T")
	for _, name := range slices.Sorted(maps.Keys(s.Variants)) {
		v := s.Variants[name]
		row := []any{name, v.N, v.Failures}
		if v.CHARIS == nil {
			for range 10 {
				row = append(row, "-")
			}
		} else {
			c := *v.CHARIS
			row = append(row, fmt.Sprintf("%.3f [%.3f, %.3f]", c.Mean, c.CI[0], c.CI[1]), optional(v.CHARISGeo))
			for _, a := range charis.Axes {
				st, ok := v.Axes[a]
				cell := "-"
				if ok {
					cell = fmt.Sprintf("%.3f", st.Mean)
				}
				if n, has := v.AxisN[a]; has && n < v.N-v.Failures {
					cell += fmt.Sprintf(" (n=%d)", n)
				}
				row = append(row, cell)
			}
			for _, c := range []string{"dino", "clip_i", "clip_t"} {
				row = append(row, fmt.Sprintf("%.3f", v.Classic[c].Mean))
			}
		}
		if err := t.Append(row...); err != nil {
			return err
		}
	}
	return t.Render()
}
