package score

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/charisbench/charisbench/charis/readfile"
)

// WorkFile holds a run's finished samples (before TD) as they complete: a header line with
// the run key, then one record a line.
const WorkFile = "work.jsonl"

type workHeader struct {
	RunKey string `json:"run_key"`
}

// work is the append-only log of finished samples.
type work struct {
	path string
	f    *os.File
}

// openWork opens out/work.jsonl for appending and returns the indexes already done. A log
// of other inputs (another manifest, config or encoder) is refused; restart discards any
// log, since the manifest's text can stay the same while its images change (a generator
// rerun). The log is kept up to its last good record: a torn last line (a kill mid-write),
// a line that is not a record, or a record that does not belong (valid says which do: its
// index and id must name a sample of this manifest) ends it, and what follows is cut off and
// scored again. An empty log, or one cut inside its header, holds no work and starts over.
func openWork(out, runKey string, restart bool, valid func(*record) bool) (*work, map[int]bool, error) {
	path := filepath.Join(out, WorkFile)
	done := map[int]bool{}
	good := int64(0)
	if restart {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return nil, nil, err
		}
	}
	f, err := readfile.Open("work log", path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, nil, err
	default:
		br := bufio.NewReader(f)
		line, rerr := br.ReadBytes('\n')
		if rerr != nil { // empty, or cut inside the header: nothing was done
			f.Close()
			break
		}
		var h workHeader
		if json.Unmarshal(line, &h) != nil || h.RunKey != runKey {
			f.Close()
			return nil, nil, fmt.Errorf("%s holds a partial run of other inputs (manifest, metric config or encoders changed); "+
				"pass --restart to discard it, or use another --out", out)
		}
		good = int64(len(line))
		for {
			line, rerr := br.ReadBytes('\n')
			if rerr != nil {
				break // EOF, or a torn last line without its newline
			}
			var r record
			if json.Unmarshal(line, &r) != nil || !valid(&r) {
				break
			}
			done[r.Index] = true
			good += int64(len(line))
		}
		f.Close()
	}
	wf, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	if err := wf.Truncate(good); err != nil {
		wf.Close()
		return nil, nil, err
	}
	if _, err := wf.Seek(good, io.SeekStart); err != nil {
		wf.Close()
		return nil, nil, err
	}
	w := &work{path: path, f: wf}
	if good == 0 {
		if err := w.writeLines(workHeader{RunKey: runKey}); err != nil {
			wf.Close()
			return nil, nil, err
		}
	}
	return w, done, nil
}

// append writes records and syncs them to disk.
func (w *work) append(recs []*record) error {
	vals := make([]any, len(recs))
	for i, r := range recs {
		vals[i] = r
	}
	return w.writeLines(vals...)
}

func (w *work) writeLines(vals ...any) error {
	var buf bytes.Buffer
	for _, v := range vals {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if _, err := w.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("%s: %w", w.path, err)
	}
	return w.f.Sync()
}

func (w *work) close() error { return w.f.Close() }

// each calls f for every record in the log, in file order, with the record's byte offset.
func (w *work) each(f func(r *record, offset int64) error) error {
	rf, err := os.Open(w.path)
	if err != nil {
		return err
	}
	defer rf.Close()
	br := bufio.NewReaderSize(rf, 1<<20)
	head, err := br.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("%s: %w", w.path, err)
	}
	off := int64(len(head))
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: %w", w.path, err)
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("%s: %w", w.path, err)
		}
		if err := f(&r, off); err != nil {
			return err
		}
		off += int64(len(line))
	}
}

// reader reads records of the log at byte offsets (those each reported).
type reader struct {
	f  *os.File
	br *bufio.Reader
}

func (w *work) reader() (*reader, error) {
	f, err := os.Open(w.path)
	if err != nil {
		return nil, err
	}
	return &reader{f: f, br: bufio.NewReaderSize(nil, 64<<10)}, nil
}

func (r *reader) at(off int64) (*record, error) {
	r.br.Reset(io.NewSectionReader(r.f, off, 1<<62))
	line, err := r.br.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, fmt.Errorf("%s at byte %d: %w", r.f.Name(), off, err)
	}
	return &rec, nil
}

func (r *reader) close() error { return r.f.Close() }
