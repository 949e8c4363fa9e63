package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/charis"
)

func newModelsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "models",
		Short: "Inspect and verify model manifests",
	}
	c.AddCommand(newModelsVerifyCmd(), newModelsBenchCmd())
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

func newModelsBenchCmd() *cobra.Command {
	var (
		rf      runtimeFlags
		roles   []string
		seconds float64
		asJSON  bool
	)
	c := &cobra.Command{
		Use:   "bench MANIFEST",
		Short: "Time each encoder of a model manifest: inputs per second at the batch size",
		Long: `Time each encoder of a model manifest on the chosen runtime and device: one batch to
compile and warm up (its time is shown apart), then full batches of --batch synthetic,
already preprocessed images (or prompts) for --seconds. Compare runtimes and devices with
the same manifest, e.g. --runtime gomlx --device cuda against the default ONNX Runtime.`,
		Example: `  charisbench models bench testdata/models/models.yaml
  charisbench models bench models.yaml --runtime gomlx --device cuda --batch 64 --roles identity,clip_image`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if seconds <= 0 {
				return fmt.Errorf("--seconds must be positive, got %g", seconds)
			}
			m, err := charis.LoadModelManifest(args[0])
			if err != nil {
				return err
			}
			var want []charis.Role
			for _, r := range roles {
				if m.Encoder(charis.Role(r)) == nil {
					return fmt.Errorf("--roles: %s has no %q encoder", args[0], r)
				}
				want = append(want, charis.Role(r))
			}
			rt, err := rf.open()
			if err != nil {
				return err
			}
			defer rt.Close()
			speeds := rt.Bench(m, want, time.Duration(seconds*float64(time.Second)))
			out := c.OutOrStdout()
			failed := 0
			for _, sp := range speeds {
				if sp.Err != nil {
					failed++
				}
			}
			if asJSON {
				type row struct {
					Name      string  `json:"name"`
					Role      string  `json:"role"`
					Runtime   string  `json:"runtime"`
					Batch     int     `json:"batch"`
					First     float64 `json:"first_batch_s"`
					Batches   int     `json:"batches"`
					PerSecond float64 `json:"per_second"`
					Error     string  `json:"error,omitempty"`
				}
				rows := []row{}
				for _, sp := range speeds {
					r := row{sp.Name, sp.Role, rt.Describe(), sp.Batch, sp.First, sp.Batches, sp.PerSecond, ""}
					if sp.Err != nil {
						r.Error = sp.Err.Error()
					}
					rows = append(rows, r)
				}
				if err := printJSON(out, rows); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "%s: %s\n", m.Path(), rt.Describe())
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ROLE\tNAME\tBATCH\tFIRST BATCH\tTIMED BATCHES\tPER SECOND")
				for _, sp := range speeds {
					if sp.Err != nil {
						fmt.Fprintf(tw, "%s\t%s\t%d\t\t\tFAIL: %v\n", sp.Role, sp.Name, sp.Batch, sp.Err)
						continue
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%.2fs\t%d\t%.1f\n", sp.Role, sp.Name, sp.Batch, sp.First, sp.Batches, sp.PerSecond)
				}
				tw.Flush()
			}
			if failed > 0 {
				return checkFailed{fmt.Errorf("%d of %d encoders failed", failed, len(speeds))}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringSliceVar(&roles, "roles", nil, "time only these roles (comma-separated; default: every encoder)")
	fl.Float64Var(&seconds, "seconds", 5, "how long to time each encoder after its first batch")
	fl.BoolVar(&asJSON, "json", false, "print JSON rows instead of a table")
	rf.register(c)
	return c
}
