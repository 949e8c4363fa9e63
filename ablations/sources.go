package ablations

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/charisbench/charisbench/charis"
)

// dirManifest points every benchmark row at DIR/ID.png, as variant name, in out/manifest.jsonl.
// A missing image stays in the manifest: scoring records that sample as an error.
func dirManifest(manifest, dir, name, out string) error {
	rows, err := charis.ReadManifest(manifest)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i] = rebase(rows[i], manifest, out)
		rows[i].Variant = name
		rows[i].Generated = charis.RelTo(out, filepath.Join(dir, rows[i].ID+".png"))
		rows[i].GeneratedMask, rows[i].World = "", nil
	}
	return writeManifest(filepath.Join(out, "manifest.jsonl"), rows)
}

// Request is one line an exec generator reads on standard input.
type Request struct {
	ID        string `json:"id"`
	Reference string `json:"reference"` // absolute path of the reference image
	Prompt    string `json:"prompt"`
	Out       string `json:"out"` // absolute path where the program writes its PNG
}

// Response is one line an exec generator writes on standard output per request.
type Response struct {
	ID    string `json:"id"`
	Image string `json:"image,omitempty"` // the file written (normally Request.Out)
	Error string `json:"error,omitempty"` // set when this sample failed
}

// execGenerate runs an external generator: it writes one Request per benchmark row as a
// JSON line to the program's standard input, closes it, and reads one Response per line
// from its standard output (any order). A row the program fails or skips stays in the
// manifest with its image missing, so scoring records the error; a program that exits
// with an error fails the stage.
func execGenerate(ctx context.Context, command []string, manifest, name, out string) error {
	rows, err := charis.ReadManifest(manifest)
	if err != nil {
		return err
	}
	images := filepath.Join(out, "images")
	if err := os.MkdirAll(images, 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %v: %w", command, err)
	}
	go func() {
		enc := json.NewEncoder(stdin)
		for _, r := range rows {
			abs, _ := filepath.Abs(filepath.Join(images, r.ID+".png"))
			ref, _ := filepath.Abs(charis.Resolve(manifest, r.Reference))
			if enc.Encode(Request{ID: r.ID, Reference: ref, Prompt: r.Prompt, Out: abs}) != nil {
				break
			}
		}
		stdin.Close()
	}()
	got := map[string]string{}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var resp Response
		if err := json.Unmarshal(sc.Bytes(), &resp); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return fmt.Errorf("%v: output line %d is not a response: %v", command, line, err)
		}
		if resp.Error == "" && resp.Image != "" {
			got[resp.ID] = resp.Image
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("%v: %w", command, err)
	}
	for i := range rows {
		r := rebase(rows[i], manifest, out)
		r.Variant, r.GeneratedMask, r.World = name, "", nil
		r.Generated = filepath.Join("images", r.ID+".png") // missing when the program failed it
		if img, ok := got[r.ID]; ok {
			r.Generated = charis.RelTo(out, img)
		}
		rows[i] = r
	}
	return writeManifest(filepath.Join(out, "manifest.jsonl"), rows)
}

// rebase makes a row's reference paths relative to a manifest written in out.
func rebase(s charis.Sample, manifest, out string) charis.Sample {
	s.Reference = charis.RelTo(out, charis.Resolve(manifest, s.Reference))
	if s.ReferenceMask != "" {
		s.ReferenceMask = charis.RelTo(out, charis.Resolve(manifest, s.ReferenceMask))
	}
	return s
}

func writeManifest(path string, rows []charis.Sample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := charis.WriteSamples(f, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
