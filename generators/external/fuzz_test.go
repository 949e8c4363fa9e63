package external

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charisbench/charisbench/internal/fuzzcheck"
)

// FuzzProgramOutput: any bytes as a version 2 or version 1 program's whole standard output
// (the program is cat, which prints them and exits) end in answers or an error that says
// what went wrong; every answer is for a request that was sent, once, and an image answered
// exists. "IMG" in an input stands for an image file that exists.
func FuzzProgramOutput(f *testing.F) {
	hello := `{"type":"hello","protocol":2,"capabilities":["generate","progress"]}` + "\n"
	f.Add(true, []byte(hello+`{"type":"image","id":"sa","image":"IMG"}`+"\n"+`{"type":"progress","id":"sb","done":1,"total":2}`+"\n"+`{"type":"error","id":"sb","error":"oom"}`+"\n"))
	f.Add(true, []byte(hello+`{"type":"image","id":"sb","image":"IMG"}`+"\n\n"+`{"type":"image","id":"sa","image":"missing.png"}`+"\n"))
	f.Add(true, []byte(hello+`{"type":"image","id":"sa","image":"IMG"}`+"\n"+`{"type":"image","id":"sa","image":"IMG"}`+"\n"))
	f.Add(true, []byte(`{"type":"hello","protocol":1}`+"\n"))
	f.Add(false, []byte(`{"id":"sa","image":"IMG"}`+"\n"+`{"id":"sb","error":"no"}`+"\n"))
	f.Add(false, []byte(`{"id":"sa","image":"IMG"}`+"\n"+`{"id":"sb","ima`))
	f.Fuzz(func(t *testing.T, v2 bool, output []byte) {
		dir := t.TempDir()
		img := filepath.Join(dir, "img.png")
		if err := os.WriteFile(img, []byte("an image"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := fuzzcheck.File(t, "stdout", bytes.ReplaceAll(output, []byte("IMG"), []byte(img)))
		p := &Program{Command: []string{"cat", out}, Protocol: V1, SampleTimeout: 5 * time.Second}
		if v2 {
			p.Protocol = V2
		}
		reqs := requests(t, 2)
		sent := map[string]bool{}
		for _, r := range reqs {
			sent[r.ID] = true
		}
		answered := map[string]bool{}
		fuzzcheck.Bounded(t, func() {
			err := p.Generate(context.Background(), reqs, func(r Result) error {
				if !sent[r.ID] || answered[r.ID] {
					t.Fatalf("answer %+v: not a pending request", r)
				}
				answered[r.ID] = true
				if (r.Image == "") == (r.Error == "") {
					t.Fatalf("answer %+v: want an image or an error", r)
				}
				if r.Image != "" {
					if _, err := os.Stat(r.Image); err != nil {
						t.Fatalf("answer %+v: the image does not exist", r)
					}
				}
				return nil
			})
			if err == nil && len(answered) != len(reqs) {
				t.Fatalf("no error, but %d of %d requests answered", len(answered), len(reqs))
			}
			if err != nil && !saysWhat(err.Error()) {
				t.Fatalf("the error does not say which output line or what the program did: %v", err)
			}
		})
	})
}

// saysWhat reports whether a protocol error names the output line, or says how the program's
// output or input ended.
func saysWhat(msg string) bool {
	for _, w := range []string{"output line", "ended its output", "before the handshake", "does not announce", "token too long", "writing to the program"} {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}
