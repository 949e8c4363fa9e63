package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/charis"
)

func newModelsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "models",
		Short: "Inspect and verify model manifests",
	}
	c.AddCommand(newModelsVerifyCmd())
	return c
}

func newModelsVerifyCmd() *cobra.Command {
	var rf runtimeFlags
	c := &cobra.Command{
		Use:   "verify MANIFEST",
		Short: "Check a model manifest: files, sha256, input/output shapes, and one batch per encoder",
		Long: `Check every encoder of a model manifest (models.yaml): the file exists and matches its
sha256, its inputs and outputs fit the declared role and preprocessing, and one batch of
synthetic inputs runs to finite outputs. Exits 1 when any encoder fails a check, 2 when
the manifest itself is malformed.`,
		Example: "  charisbench models verify testdata/models/models.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			m, err := charis.LoadModelManifest(args[0])
			if err != nil {
				return err
			}
			rt, err := rf.open()
			if err != nil {
				return err
			}
			defer rt.Close()
			checks := rt.Verify(m)
			out := c.OutOrStdout()
			fmt.Fprintf(out, "%s: %d encoders, %s\n", m.Path(), len(checks), rt.Describe())
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ROLE\tNAME\tINPUT\tOUTPUT\tBATCH\tRESULT")
			failed := 0
			for _, ch := range checks {
				result := fmt.Sprintf("ok (%.0f ms)", 1000*ch.Seconds)
				if ch.Err != nil {
					result = "FAIL"
					failed++
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", ch.Role, ch.Name, ch.Input, ch.Output, ch.BatchShape, result)
			}
			tw.Flush()
			for _, ch := range checks {
				if ch.Err != nil {
					fmt.Fprintf(out, "FAIL %s: %v\n", ch.Name, ch.Err)
				}
			}
			if failed > 0 {
				return checkFailed{fmt.Errorf("%d of %d encoders failed verification", failed, len(checks))}
			}
			return nil
		},
	}
	rf.register(c)
	return c
}
