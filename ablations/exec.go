package ablations

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/readfile"
	"github.com/charisbench/charisbench/charis/world"
	"github.com/charisbench/charisbench/generators/external"
)

// Exec stages. Training writes the variant's checkpoint folder through the program. Generation
// works in variants/NAME/generating/: each answered image is recorded in journal.jsonl
// under the hash of its request's content, so a rerun after a crash or a kill -9 asks only
// for the images not yet answered (a changed setting changes the hash: those are asked
// again); when every request is answered the folder becomes generated/.

// generatingDir is where an exec variant's images accumulate until the stage completes.
func (r *variantRun) generatingDir() string { return filepath.Join(r.dir, "generating") }

// program is the variant's external generator.
func (r *variantRun) program() *external.Program {
	g := r.v.Generator
	p := &external.Program{Command: g.Command, Protocol: g.Protocol, Stderr: os.Stderr}
	if g.Protocol == external.V2 {
		// A protocol-2 program runs beside the ablations file: the command's relative paths
		// are the file's. (Version 1 programs run where charisbench runs, as they always did.)
		p.Dir = filepath.Dir(r.f.Path())
	}
	if g.SampleTimeout != "" {
		p.SampleTimeout, _ = time.ParseDuration(g.SampleTimeout) // validated on load
	}
	if r.o.Progress != nil {
		p.Progress = func(id string, done, total int, msg string) {
			fmt.Fprintf(r.o.Progress, "  %s %s: %d/%d %s\n", r.v.Name, id, done, total, msg)
		}
	}
	return p
}

// stageContext applies the generator's stage timeout.
func (r *variantRun) stageContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if t := r.v.Generator.StageTimeout; t != "" {
		d, _ := time.ParseDuration(t)
		return context.WithTimeout(ctx, d)
	}
	return context.WithCancel(ctx)
}

// trainData is the training manifest an exec train request names: the generator's
// train_data, or a charis-world train split (characters no benchmark uses) built once.
func (r *variantRun) trainData() (string, error) {
	g := r.v.Generator
	if g.TrainData != "" {
		return filepath.Abs(r.f.Resolve(g.TrainData))
	}
	w := r.f.Benchmark.World
	if w == nil {
		return "", fmt.Errorf("generator %s: train_data is needed with a manifest benchmark", g.Name)
	}
	dir := filepath.Join(filepath.Dir(filepath.Dir(r.dir)), "train-data")
	opt := world.BuildOptions{Subjects: trainSubjects, PromptsPerSubject: trainPrompts, Seed: w.Seed, Size: w.Size, Split: world.SplitTrain}
	key := hashOf("train-data-v1", opt.Subjects, opt.PromptsPerSubject, opt.Seed, opt.Size)
	if !keyMatches(dir, key) {
		if err := atomicDir(dir, key, func(tmp string) error { return world.Build(tmp, opt) }, "manifest.jsonl"); err != nil {
			return "", fmt.Errorf("building the training data: %w", err)
		}
	}
	return filepath.Abs(filepath.Join(dir, "manifest.jsonl"))
}

// The charis-world training split an exec generator gets without train_data.
const (
	trainSubjects = 64
	trainPrompts  = 4
)

// noTrainFile marks a checkpoint folder of a program that does not train.
const noTrainFile = "no-train"

// execTrain runs the train request into tmp.
func (r *variantRun) execTrain(ctx context.Context, tmp string) error {
	data, err := r.trainData()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(tmp)
	if err != nil {
		return err
	}
	ctx, cancel := r.stageContext(ctx)
	defer cancel()
	err = r.program().Train(ctx, external.TrainRequest{Variant: r.v.Name, Settings: r.v.Typed(), Checkpoint: abs, Data: data})
	if errors.Is(err, external.ErrNoTrain) {
		return os.WriteFile(filepath.Join(tmp, noTrainFile), []byte("the program announced no train capability\n"), 0o644)
	}
	return err
}

// journalEntry is one answered request.
type journalEntry struct {
	Key   string `json:"key"` // hash of the request's content
	ID    string `json:"id"`
	Image string `json:"image,omitempty"` // relative to the generating folder
	Error string `json:"error,omitempty"`
}

// execGenerate asks the program for every image not yet answered, then writes the
// manifest. Rows of samples_per_prompt > 1 become ID_g0 ... ID_g(n−1), seeds seed+k.
func (r *variantRun) execGenerate(ctx context.Context) error {
	g := r.v.Generator
	rows, err := charis.ReadManifest(r.bench.manifest)
	if err != nil {
		return err
	}
	work := r.generatingDir()
	if _, err := os.Stat(work); os.IsNotExist(err) {
		// A finished stage being redone (a new benchmark row, a changed setting) starts from
		// its images: requests whose content did not change are not asked again.
		if _, err := os.Stat(filepath.Join(r.generated(), "journal.jsonl")); err == nil {
			if err := os.Remove(filepath.Join(r.generated(), keyFile)); err != nil {
				return err
			}
			if err := os.Rename(r.generated(), work); err != nil {
				return err
			}
		}
	}
	images := filepath.Join(work, "images")
	if err := os.MkdirAll(images, 0o755); err != nil {
		return err
	}
	journalPath := filepath.Join(work, "journal.jsonl")
	done, err := readJournal(journalPath)
	if err != nil {
		return err
	}
	checkpoint := ""
	if g.Protocol == external.V2 {
		if _, err := os.Stat(filepath.Join(r.checkpoint(), noTrainFile)); os.IsNotExist(err) {
			checkpoint, _ = filepath.Abs(r.checkpoint())
		}
	}
	trainKey, err := r.trainKey()
	if err != nil {
		return err
	}
	settings := r.v.Typed()
	type planned struct {
		row charis.Sample
		req external.GenerateRequest
		key string
	}
	var plan []planned
	refSHA := map[string]string{} // a subject's reference serves all its rows: hash it once
	for _, row := range rows {
		for k := range g.SamplesPerPrompt {
			id := row.ID
			if g.SamplesPerPrompt > 1 {
				id = fmt.Sprintf("%s_g%d", row.ID, k)
			}
			ref, _ := filepath.Abs(charis.Resolve(r.bench.manifest, row.Reference))
			refMask := ""
			if row.ReferenceMask != "" {
				refMask, _ = filepath.Abs(charis.Resolve(r.bench.manifest, row.ReferenceMask))
			}
			out, _ := filepath.Abs(filepath.Join(images, id+".png"))
			req := external.GenerateRequest{ID: id, Variant: r.v.Name, Settings: settings, Checkpoint: checkpoint,
				Reference: ref, ReferenceMask: refMask, Prompt: row.Prompt, Seed: r.v.Settings.Seed + uint64(k), Out: out}
			// The key is the request's content and the trained checkpoint's key: what the image depends on.
			if _, ok := refSHA[ref]; !ok {
				refSHA[ref] = fileSHA(ref)
			}
			key := hashOf("exec-request-v2", g.Protocol, g.Command, trainKey, req.Settings, refSHA[ref], req.Prompt, req.Seed, id)
			sample := row
			sample.ID = id
			plan = append(plan, planned{row: sample, req: req, key: key})
		}
	}
	var todo []external.GenerateRequest
	keyOf := map[string]string{}
	for _, p := range plan {
		keyOf[p.req.ID] = p.key
		if e, ok := done[p.key]; ok && e.Error == "" {
			if _, err := os.Stat(filepath.Join(work, e.Image)); err == nil {
				continue // answered before: never asked again
			}
		}
		todo = append(todo, p.req)
		// An image left by an earlier request of other content must not stand in for this one.
		if err := os.Remove(p.req.Out); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	r.o.Log.Info("exec generate", "variant", r.v.Name, "requests", len(todo), "already answered", len(plan)-len(todo))
	if len(todo) > 0 {
		jf, err := openJournal(journalPath)
		if err != nil {
			return err
		}
		defer jf.Close()
		ctx, cancel := r.stageContext(ctx)
		defer cancel()
		err = r.program().Generate(ctx, todo, func(res external.Result) error {
			e := journalEntry{Key: keyOf[res.ID], ID: res.ID, Error: res.Error}
			if res.Image != "" {
				rel, err := filepath.Rel(work, res.Image)
				if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
					return fmt.Errorf("id %q: the image %s is outside %s", res.ID, res.Image, work)
				}
				e.Image = rel
			}
			done[e.Key] = e
			b, _ := json.Marshal(e)
			if _, err := jf.Write(append(b, '\n')); err != nil {
				return err
			}
			return jf.Sync() // an answered image survives a kill -9 of charisbench
		})
		if err != nil {
			return err
		}
	}
	out := make([]charis.Sample, 0, len(plan))
	for _, p := range plan {
		row := rebase(p.row, r.bench.manifest, work)
		row.Variant, row.GeneratedMask, row.World = r.v.Name, "", nil
		row.Generated = filepath.Join("images", row.ID+".png") // missing when the program failed it: scored as an error
		if e, ok := done[p.key]; ok && e.Image != "" {
			row.Generated = e.Image
		}
		out = append(out, row)
	}
	return writeManifest(filepath.Join(work, "manifest.jsonl"), out)
}

// readJournal reads the answered requests. A line that is not an entry (a torn last line
// after a kill, garbage) is skipped, and so is an entry whose image lies outside the folder:
// their requests are asked again.
func readJournal(path string) (map[string]journalEntry, error) {
	done := map[string]journalEntry{}
	f, err := readfile.Open("generation journal", path)
	if errors.Is(err, fs.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var e journalEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Key == "" || (e.Image != "" && !filepath.IsLocal(filepath.FromSlash(e.Image))) {
			continue
		}
		done[e.Key] = e
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("generation journal %s: %v; delete it to ask for every image of the variant again", path, err)
	}
	return done, nil
}

// openJournal opens the journal for appending, first ending a line a kill left torn, so
// that the next entry starts on a line of its own.
func openJournal(path string) (*os.File, error) {
	jf, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	st, err := jf.Stat()
	if err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err = jf.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			_, err = jf.Write([]byte{'\n'})
		}
	}
	if err != nil {
		jf.Close()
		return nil, err
	}
	return jf, nil
}

// fileSHA hashes a file's bytes ("" when it cannot be read: the request then fails there).
func fileSHA(path string) string {
	h, _ := readfile.SHA256("file", path)
	return h
}
