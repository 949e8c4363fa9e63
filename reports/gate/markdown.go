package gate

import (
	"fmt"
	"io"
)

// WriteMarkdown writes the verdict as Markdown, fit for a CI job summary.
func WriteMarkdown(w io.Writer, r *Result, baseline, candidate string) error {
	verdict := "✅ pass"
	if !r.Pass {
		verdict = "❌ regression"
	}
	fmt.Fprintf(w, "## CHARIS gate: %s\n\n", verdict)
	fmt.Fprintf(w, "Baseline `%s`, candidate `%s`: %d paired samples from %d subjects", baseline, candidate, r.Paired, r.Subjects)
	if r.Unpaired > 0 {
		fmt.Fprintf(w, ", %d unpaired", r.Unpaired)
	}
	fmt.Fprintf(w, ". A metric fails when its drop exceeds %.4g with %.0f%% confidence (paired bootstrap over subjects, %d draws).\n\n",
		r.Options.MaxDrop, 100*(1-r.Options.Alpha), r.Options.Draws)
	fmt.Fprintln(w, "| metric | baseline | candidate | drop | drop interval | verdict |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | --- | --- |")
	for _, m := range r.Metrics {
		v := "pass"
		if m.Regression {
			v = "**regression**"
		}
		fmt.Fprintf(w, "| %s | %.4f | %.4f | %+.4f | [%+.4f, %+.4f] | %s |\n", m.Metric, m.Baseline, m.Candidate, m.Drop, m.DropCI[0], m.DropCI[1], v)
	}
	if len(r.NewFailures) > 0 {
		fmt.Fprintf(w, "\n%d samples scored in the baseline fail in the candidate:", len(r.NewFailures))
		for i, id := range r.NewFailures {
			if i == 20 {
				fmt.Fprintf(w, " … (%d more)", len(r.NewFailures)-20)
				break
			}
			fmt.Fprintf(w, " `%s`", id)
		}
		fmt.Fprintln(w)
	}
	return nil
}
